import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** The environment variable that sets the trainer worker pool: a count, or `off` to train every task in-process. */
export const WORKERS_ENV = 'ML_TRAINER_WORKERS';

/** More one-thread workers than this only time-share the cores (and each holds its own TensorFlow). */
export const MAX_TRAINER_WORKERS = 64;

export type TrainerWorkers = number | 'off';

const countSchema = z.number().int().min(1).max(MAX_TRAINER_WORKERS);
const envSchema = z.union([
  z.literal('off'),
  z.string().regex(/^\d+$/, 'a whole number').transform(Number).pipe(countSchema),
]);

export interface WorkerCountInput {
  /** An explicit pool size (`serve --workers`); wins over the environment. */
  workers?: TrainerWorkers;
  /** How many episodes the caller runs at once (eval --concurrency): the default size is this, up to the cores. */
  concurrency?: number;
}

/**
 * The size of the pool of one-thread trainer workers, or 'off': the explicit option, else
 * ML_TRAINER_WORKERS, else one per core (no more than the caller's concurrency). A bad
 * value is an error that names what is allowed.
 */
export function trainerWorkerCount(input: WorkerCountInput = {}, env: NodeJS.ProcessEnv = process.env, cpus = availableParallelism()): TrainerWorkers {
  if (input.workers !== undefined) {
    if (input.workers === 'off') return 'off';
    const parsed = countSchema.safeParse(input.workers);
    if (!parsed.success) throw new RangeError(`the trainer worker count must be a whole number from 1 to ${MAX_TRAINER_WORKERS} or "off", got ${input.workers}`);
    return parsed.data;
  }
  const text = env[WORKERS_ENV];
  if (text !== undefined && text.trim() !== '') {
    const parsed = envSchema.safeParse(text.trim());
    if (!parsed.success) throw new RangeError(`${WORKERS_ENV} must be a whole number from 1 to ${MAX_TRAINER_WORKERS} or "off", got ${JSON.stringify(text)}; unset it for one worker per core`);
    return parsed.data;
  }
  const cores = Math.max(1, cpus);
  return input.concurrency === undefined ? cores : Math.max(1, Math.min(cores, Math.floor(input.concurrency)));
}
