import { availableParallelism } from 'node:os';
import { getTask } from '../../core/src';
import { processIntraOpThreads } from '../../training/src/without-tensorflow';

export { processIntraOpThreads };

/**
 * The intra-op pool size a task trains fastest with, chosen by measurement
 * (`npm run bench`, README "Performance"). simple_mlp's kernels are too small to split:
 * on 2 CPUs every hand-off to a second pool thread costs more than it saves: one thread
 * trains its epoch in ~0.065 s against ~0.09 s with two at batch 64 (0.10 vs 0.15 s at 32,
 * a tie at 256). Its values do not depend
 * on the thread count, so it may train in any process. The CNNs' convolutions do gain
 * from every thread, and their sums are split by thread, so they always take the
 * process's configured count (a checkpoint continues bit for bit under the same count).
 */
export function intraOpThreadsForTask(taskId: string, env: NodeJS.ProcessEnv = process.env, cpus = availableParallelism()): number {
  return getTask(taskId).model_type === 'simple_mlp' ? 1 : processIntraOpThreads(env, cpus);
}

/**
 * For a process that trains one task only: gives TensorFlow that task's thread count, so
 * the task trains in this process rather than in a worker. Effective only before
 * tfjs-node loads, and only when TF_NUM_INTRAOP_THREADS is not set already.
 */
export function pinThreadsForTask(taskId: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env.TF_NUM_INTRAOP_THREADS === undefined || env.TF_NUM_INTRAOP_THREADS === '') {
    env.TF_NUM_INTRAOP_THREADS = String(intraOpThreadsForTask(taskId, env));
  }
}
