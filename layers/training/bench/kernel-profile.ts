import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';

/**
 * Counts and times every TensorFlow kernel call by wrapping tfjs-node's binding
 * (a development aid for the timing script; tfjs-node's binding object is frozen, so it
 * is replaced by a copy whose executeOp is wrapped).
 */
export function installKernelProfiler(): { report(divisor: number, label: string): void } {
  const backend = tf.backend() as NodeJSKernelBackend;
  const real = backend.binding as unknown as Record<string, unknown>;
  const stats = new Map<string, { calls: number; ms: number }>();
  const copy: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(real)) {
    const value = real[key];
    copy[key] = typeof value === 'function' ? value.bind(real) : value;
  }
  const timed = (key: string, label: (args: unknown[]) => string) => {
    const fn = real[key] as (...args: unknown[]) => unknown;
    copy[key] = (...args: unknown[]) => {
      const started = performance.now();
      try {
        return fn.apply(real, args);
      } finally {
        const name = label(args);
        const s = stats.get(name) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += performance.now() - started;
        stats.set(name, s);
      }
    };
  };
  timed('executeOp', (args) => args[0] as string);
  timed('deleteTensor', () => '(deleteTensor)');
  timed('createTensor', () => '(createTensor)');
  timed('tensorDataSync', () => '(tensorDataSync)');
  (backend as unknown as { binding: unknown }).binding = copy;
  return {
    report(divisor, label) {
      const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
      const total = rows.reduce((sum, [, s]) => sum + s.ms, 0);
      const calls = rows.reduce((sum, [, s]) => sum + s.calls, 0);
      console.log(`  kernels per ${label}: ${(calls / divisor).toFixed(0)} calls, ${(total / divisor).toFixed(2)} ms`);
      for (const [name, s] of rows.slice(0, 15)) {
        console.log(`    ${name.padEnd(36)} ${(s.calls / divisor).toFixed(1).padStart(6)} calls ${(s.ms / divisor).toFixed(3).padStart(8)} ms`);
      }
      stats.clear();
    },
  };
}
