import * as tf from '@tensorflow/tfjs-node';
import type { EvalPassMetrics } from '../../core/src';
import type { SplitTensors } from './data/split-tensors';
import { EventLoopYield } from './event-loop-yield';
import type { KernelChoice } from './layers/layer';
import type { ModelState } from './model-state';
import { softmaxCrossEntropy } from './ops/cross-entropy';
import { PassTotals } from './pass-totals';

/**
 * One pass over the validation set in its stored order, in batches of twice the training
 * batch size (the reference's val loader), dropout off and batch norm on its running
 * statistics; sample-weighted mean loss and accuracy.
 */
export async function evaluate(model: ModelState, data: SplitTensors, kernels: KernelChoice, yieldEveryMs?: number): Promise<EvalPassMetrics> {
  const started = performance.now();
  const batchSize = 2 * model.config.batch_size;
  const totals = new PassTotals();
  const params = model.readParams();
  const breather = new EventLoopYield(yieldEveryMs);
  try {
    for (let start = 0; start < data.count; start += batchSize) {
      const size = Math.min(batchSize, data.count - start);
      const out = tf.tidy(() => {
        const x = tf.slice(data.images, [start, 0, 0, 0], [size, -1, -1, -1]);
        const y = tf.slice(data.labels, [start], [size]);
        const ctx = {
          training: false,
          params,
          buffers: new Map(model.buffers),
          dropoutSeed: 0,
          kernels,
        };
        const { logits } = model.network.forward(x, ctx);
        return { losses: softmaxCrossEntropy(logits, y).losses, logits, labels: y };
      });
      totals.add(out.losses, out.logits, out.labels);
      await breather.maybe();
    }
    const { loss, accuracy } = await totals.means();
    return { loss, accuracy, seconds: (performance.now() - started) / 1000 };
  } finally {
    totals.dispose();
    params.forEach((t) => t.dispose());
  }
}
