import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { getTask, type TrainerFactory } from '../../layers/core/src';
import { itemsOf, lazyTrainerFactory, Observability, S3DatasetSync, traceStorage, TrainingRuntime, type TrainingStepResponse } from '../../layers/cloud/src';
import { type DatasetCatalog, resolveDataDir } from '../../layers/datasets/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * Milliseconds from the process's start to this module's load: the container's INIT phase
 * (runtime start, the bundle's imports), which Lambda bills with the first invocation.
 */
const moduleLoadedAt = performance.now();

/**
 * The training Lambda (container image): executes one step of an episode (the event the api
 * Lambda sends, layers/cloud/src/training-protocol.ts) with the stored service and the real
 * tfjs-node trainer, and answers the step view (a synchronous invocation) or just stores it
 * (an asynchronous one). The api sends it only steps that train (run_epochs); the trainer
 * calls other steps recorded on the item are replayed first. Nothing heavy happens at cold
 * start: tfjs-node is imported the first time a step actually needs a trainer (a replay or
 * a refusal never does), and a dataset is copied from the datasets bucket into
 * ML_TRAINER_DATA_DIR (/tmp) the first time a step trains on it. Both happen inside that
 * step's invocation, so its metered duration includes them; the container's INIT phase is
 * metered with its first invocation (TrainingRuntime).
 */
export interface TrainingHandlerDeps {
  storage: Storage;
  env?: NodeJS.ProcessEnv;
  /** The datasets' official files and checksums (tests inject tiny ones). */
  catalog?: DatasetCatalog;
  /**
   * Builds the real trainer factory (called once, on first need). Default: the dataset
   * trainers of layers/runtime over ML_TRAINER_DATA_DIR, official checksums required.
   */
  loadTrainerFactory?: (options: { dataDir: string; onWarning: (message: string) => void }) => Promise<TrainerFactory>;
  /** Replaces the lazy real trainers altogether (tests about routing: the formula trainer). */
  trainers?: TrainerFactory;
  clock?: () => Date;
  monotonicMs?: () => number;
  /** The container's initialisation to meter with its first invocation (default: this module's load time since the process started; 0 with an injected monotonicMs). */
  initMs?: number;
}

export type TrainingHandler = (event: unknown, context: Context) => Promise<TrainingStepResponse>;

async function datasetTrainers(options: { dataDir: string; onWarning: (message: string) => void }): Promise<TrainerFactory> {
  // Loaded here, not at the top: this is what imports @tensorflow/tfjs-node.
  const { datasetTrainerFactory } = await import('../../layers/runtime/src');
  return datasetTrainerFactory({ dataDir: options.dataDir, allowUnverified: false, autoFetch: false, onWarning: options.onWarning });
}

export function createTrainingHandler(deps: TrainingHandlerDeps | ((obs: Observability) => TrainingHandlerDeps)): TrainingHandler {
  const obs = new Observability('ml-trainer-training');
  let runtime: TrainingRuntime | undefined;
  const build = (): TrainingRuntime => {
    const d = typeof deps === 'function' ? deps(obs) : deps;
    const env = d.env ?? process.env;
    traceStorage(d.storage, obs);
    const logger = obs.logger;
    const dataDir = resolveDataDir(undefined, env);
    const sync = new S3DatasetSync({
      blobs: d.storage.data,
      prefix: env.DATA_PREFIX ?? '',
      dataDir,
      ...(d.catalog ? { catalog: d.catalog } : {}),
      onWarning: (message) => logger.warn(message),
      onProgress: (event) => logger.info(`dataset ${event.stage}`, { ...event }),
    });
    const load = d.loadTrainerFactory ?? datasetTrainers;
    const trainers =
      d.trainers ??
      lazyTrainerFactory({
        load: async () => {
          const started = performance.now();
          const factory = await load({ dataDir, onWarning: (message) => logger.warn(message) });
          logger.info('trainer factory loaded', { ms: Math.round(performance.now() - started) });
          return factory;
        },
        beforeData: async (spec) => {
          await sync.ensureAvailable(getTask(spec.taskId).dataset_name);
        },
      });
    return new TrainingRuntime(
      {
        episodes: d.storage.episodes,
        checkpoints: d.storage.checkpoints,
        items: itemsOf(d.storage, d.clock),
        trainers,
        ...(d.clock ? { clock: d.clock } : {}),
        ...(d.monotonicMs ? { monotonicMs: d.monotonicMs } : {}),
        logger,
        count: (metric, value) => obs.count(metric, value),
      },
      d.initMs ?? (d.monotonicMs ? 0 : moduleLoadedAt),
    );
  };
  return (event: unknown, context: Context) =>
    obs.invocation('training', context, async () => {
      runtime ??= build();
      const e = event as { tenant?: unknown; episode_id?: unknown; request_id?: unknown; mode?: unknown };
      obs.logger.appendKeys({ tenant: String(e?.tenant), episode_id: String(e?.episode_id), step_id: String(e?.request_id), mode: String(e?.mode) });
      try {
        return await runtime.handle(event, context);
      } finally {
        obs.logger.removeKeys(['tenant', 'episode_id', 'step_id', 'mode']);
      }
    });
}

let configured: TrainingHandler | undefined;

export async function handler(event: unknown, context: Context): Promise<TrainingStepResponse> {
  configured ??= createTrainingHandler(() => ({ storage: createStorageFromEnv(process.env) }));
  return configured(event, context);
}
