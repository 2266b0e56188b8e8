import type { TrainerFactory } from '../layers/core/src';
import { formulaTrainerFactory } from '../layers/testing/src';
import { UsageError, type CliIO } from './command';
import { downloadProgressPrinter } from './download-progress';

/** Options every command that trains accepts. */
export const TRAINING_OPTIONS = {
  'data-dir': { type: 'string' },
  'allow-unverified-data': { type: 'boolean' },
  trainer: { type: 'string' },
  verbose: { type: 'boolean' },
} as const;

export const TRAINING_OPTIONS_HELP = `  --data-dir <dir>         where the datasets are (default: $ML_TRAINER_DATA_DIR, else ~/.cache/ml-trainer/datasets)
  --allow-unverified-data  accept dataset files whose checksums differ from the official ones (warns;
                           also $ML_TRAINER_ALLOW_UNVERIFIED_DATA=1)
  --trainer <tfjs|formula>  tfjs (default) trains real models; formula is a closed-form stand-in for tests
  --verbose                 also print TensorFlow's own start-up and info logs`;

export interface TrainingOptionValues {
  'data-dir'?: string;
  'allow-unverified-data'?: boolean;
  trainer?: string;
  verbose?: boolean;
}

/** --allow-unverified-data, else $ML_TRAINER_ALLOW_UNVERIFIED_DATA (1/true or 0/false/empty). */
export function allowsUnverifiedData(values: TrainingOptionValues, env: NodeJS.ProcessEnv): boolean {
  if (values['allow-unverified-data']) return true;
  const text = (env.ML_TRAINER_ALLOW_UNVERIFIED_DATA ?? '').trim().toLowerCase();
  if (text === '1' || text === 'true') return true;
  if (text === '' || text === '0' || text === 'false') return false;
  throw new UsageError(`ML_TRAINER_ALLOW_UNVERIFIED_DATA must be 1 or 0, got ${JSON.stringify(env.ML_TRAINER_ALLOW_UNVERIFIED_DATA)}; unset it to use only files that match the official checksums`);
}

/** The arguments a child process needs to train the same way. */
export function trainingArgv(values: TrainingOptionValues): string[] {
  const argv: string[] = [];
  if (values['data-dir'] !== undefined) argv.push('--data-dir', values['data-dir']);
  if (values['allow-unverified-data']) argv.push('--allow-unverified-data');
  if (values.trainer !== undefined) argv.push('--trainer', values.trainer);
  if (values.verbose) argv.push('--verbose');
  return argv;
}

/** How many episodes train at once (see datasetTrainerFactory's `workers` and `concurrency`). */
export interface TrainerPoolOptions {
  /** The trainer worker pool's size (serve --workers); wins over ML_TRAINER_WORKERS. */
  workers?: number;
  /** How many episodes the command plays at once (eval --concurrency): the pool gets that many workers, up to the cores. */
  concurrency?: number;
}

/**
 * The trainers a command asked for. `onlyTask`: the one task this process will train; played
 * one episode at a time, it then gets that task's TensorFlow thread count here instead of a worker process.
 */
export async function trainerFactoryFor(values: TrainingOptionValues, io: CliIO, onlyTask?: string, pool: TrainerPoolOptions = {}): Promise<TrainerFactory> {
  const kind = values.trainer ?? 'tfjs';
  if (kind === 'formula') return formulaTrainerFactory;
  if (kind !== 'tfjs') throw new UsageError(`--trainer must be tfjs or formula, got ${JSON.stringify(kind)}`);
  // TensorFlow reads its level from this process's environment when tfjs-node loads (below);
  // worker processes inherit it. Without --verbose the training layer sets 1 (layers/training/src/tensorflow-logs.ts).
  if (values.verbose) process.env.TF_CPP_MIN_LOG_LEVEL ??= '0';
  // Pinned only for one episode at a time: several concurrent MLP episodes need the pool's processes, not this one.
  if (onlyTask !== undefined && (pool.concurrency ?? 1) <= 1) {
    const { pinThreadsForTask } = await import('../layers/runtime/src');
    pinThreadsForTask(onlyTask);
  }
  // Loaded only here: TensorFlow takes a moment to start and most commands never need it.
  const { datasetTrainerFactory } = await import('../layers/runtime/src');
  return datasetTrainerFactory({
    ...pool,
    dataDir: values['data-dir'] ?? io.env.ML_TRAINER_DATA_DIR,
    allowUnverified: allowsUnverifiedData(values, io.env),
    onWarning: (message) => io.stderr.write(`warning: ${message}\n`),
    autoFetch: true,
    onFetchProgress: downloadProgressPrinter(io.stderr),
    onProgress: (event) => {
      if (event.stage === 'decoding') io.stderr.write(`decoding ${event.file}\n`);
    },
  });
}
