import * as tf from '@tensorflow/tfjs-node';
import { attr, runKernel } from './ops/kernels';
import { matMul } from './ops/conv';
import { oneDnnLabel } from './ops/onednn';
import { processIntraOpThreads } from './thread-count';

/** One kernel at one size: its best repeat. */
export interface MatMulSample {
  size: number;
  kernel: MatMulKernel;
  best_s: number;
  gflops: number;
}

/** The fastest float32 matrix product this process's TensorFlow runs: the machine's practical peak. */
export interface MatMulPeak {
  gflops: number;
  /** n of the n×n · n×n product that reached it. */
  size: number;
  kernel: MatMulKernel;
  /** The intra-op pool it ran on (this process's: TF_NUM_INTRAOP_THREADS, else every CPU). */
  intra_op_threads: number;
  /** Timed repeats per kernel and size, after `warmup` untimed ones. */
  repeats: number;
  warmup: number;
  samples: MatMulSample[];
}

/** The engine's MatMul (ops/conv.ts), and oneDNN's, which eager TensorFlow does not pick by itself. */
export type MatMulKernel = 'MatMul' | '_MklMatMul';

const KERNELS: Record<MatMulKernel, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  MatMul: (a, b) => matMul(a, b),
  _MklMatMul: (a, b) =>
    runKernel('_MklMatMul', [attr.dtype('T'), attr.bool('transpose_a', false), attr.bool('transpose_b', false), oneDnnLabel()], [a, b]),
};

/**
 * Times n×n float32 products on each kernel (best of `repeats` after `warmup`: the best is the
 * figure least disturbed by other processes) and returns the fastest. 2·n³ FLOPs per product.
 * A kernel this TensorFlow library lacks is left out.
 */
export function measureMatMulPeak(options: { sizes?: number[]; repeats?: number; warmup?: number } = {}): MatMulPeak {
  const { sizes = [2048], repeats = 5, warmup = 1 } = options;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be a positive integer, got ${repeats}`);
  const samples: MatMulSample[] = [];
  for (const size of sizes) {
    const [a, b] = [1, 2].map((seed) => tf.randomUniform([size, size], -1, 1, 'float32', seed));
    for (const kernel of Object.keys(KERNELS) as MatMulKernel[]) {
      const best = bestSeconds(() => KERNELS[kernel](a!, b!), repeats, warmup);
      if (best !== null) samples.push({ size, kernel, best_s: best, gflops: (2 * size ** 3) / best / 1e9 });
    }
    tf.dispose([a!, b!]);
  }
  const top = samples.reduce((x, y) => (y.gflops > x.gflops ? y : x));
  return { gflops: top.gflops, size: top.size, kernel: top.kernel, intra_op_threads: processIntraOpThreads(), repeats, warmup, samples };
}

/** The fastest of `repeats` timed runs, or null when the kernel does not run here. */
function bestSeconds(product: () => tf.Tensor, repeats: number, warmup: number): number | null {
  // tfjs-node runs TensorFlow's CPU kernels synchronously: the call returns with the product
  // done (ten chained products, read back once at the end, take as long each). Reading it back
  // here would add a 16 MiB copy (~10%) to a 2048² product's time.
  const once = () => {
    const t0 = performance.now();
    const y = product();
    const seconds = (performance.now() - t0) / 1000;
    y.dispose();
    return seconds;
  };
  try {
    for (let i = 0; i < warmup; i++) once();
  } catch {
    return null;
  }
  return Math.min(...Array.from({ length: repeats }, once));
}
