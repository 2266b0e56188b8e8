import { availableParallelism } from 'node:os';

/**
 * TensorFlow's intra-op pool size for this process: TF_NUM_INTRAOP_THREADS when set
 * (TensorFlow reads it once, when tfjs-node loads), else the CPUs the process may use.
 */
export function processIntraOpThreads(env: NodeJS.ProcessEnv = process.env, cpus = availableParallelism()): number {
  const configured = Number(env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(configured) && configured > 0 ? configured : cpus;
}
