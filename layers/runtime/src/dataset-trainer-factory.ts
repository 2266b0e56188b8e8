import { getTask, type TrainerFactory, type TrainerSpec } from '../../core/src';
import { DatasetError, type FetchProgress, type LoadProgress, loadTaskData, subsetIndices, type TaskData } from '../../datasets/src';
import { DatasetDownloads } from './dataset-downloads';
import type { DownloadBackoffOptions } from './download-backoff';
import { intraOpThreadsForTask, processIntraOpThreads } from './task-threads';
import { TrainerWorkerPool } from './trainer-worker-pool';
import { takingTurns } from './trainer-turns';
import { trainerWorkerCount, type TrainerWorkers } from './worker-count';

export interface DatasetTrainerOptions {
  /** Folder with one sub-folder per dataset (default: ML_TRAINER_DATA_DIR, else the user cache). */
  dataDir?: string;
  /** Accept dataset files whose checksums differ from the official ones, with a warning. */
  allowUnverified: boolean;
  onWarning: (message: string) => void;
  onProgress?: (event: LoadProgress) => void;
  /** Download a dataset that is not on disk from its official locations (verified) before loading it. */
  autoFetch?: boolean;
  onFetchProgress?: (event: FetchProgress) => void;
  /** Replaces the official download locations (a mirror, or a test server). */
  fetchBaseUrl?: string;
  /** After a failed download, how long until the next (default 30 s, doubling to 10 min). */
  fetchBackoff?: DownloadBackoffOptions;
  /**
   * Train every task in this process, whatever thread count suits it (default: false, or
   * true when the worker count is 'off'). Otherwise a task whose best TensorFlow thread count
   * (task-threads.ts) differs from this process's trains in a pool of worker processes with that count.
   */
  inProcessOnly?: boolean;
  /**
   * The pool's size: how many trainers of such tasks (the one-thread MLP) train at once on
   * separate cores (default: ML_TRAINER_WORKERS, else one per core; 'off' as inProcessOnly).
   */
  workers?: TrainerWorkers;
  /** How many episodes the caller plays at once: the default pool size is this, up to the cores. */
  concurrency?: number;
}

/**
 * Real trainers (tfjs-node) fed with the task's subset of the official training split,
 * drawn with the episode's seed, each on the TensorFlow thread count that suits its task:
 * in this process when that is this process's count, else in a pool of worker processes
 * (trainer-worker-pool.ts), so that concurrent episodes train on separate cores.
 */
export function datasetTrainerFactory(options: DatasetTrainerOptions): TrainerFactory {
  const here = inProcessFactory(options);
  if (options.inProcessOnly) return here;
  const size = trainerWorkerCount({ workers: options.workers, concurrency: options.concurrency });
  if (size === 'off') return here;
  const threads = processIntraOpThreads();
  const pools = new Map<number, TrainerWorkerPool>();
  const route = (spec: TrainerSpec): TrainerFactory => {
    const wanted = intraOpThreadsForTask(spec.taskId);
    if (wanted === threads) return here;
    let pool = pools.get(wanted);
    if (!pool) {
      pool = new TrainerWorkerPool({
        size,
        threads: wanted,
        dataset: {
          dataDir: options.dataDir,
          allowUnverified: options.allowUnverified,
          autoFetch: options.autoFetch ?? false,
          ...(options.fetchBaseUrl === undefined ? {} : { fetchBaseUrl: options.fetchBaseUrl }),
        },
        onWarning: options.onWarning,
        onProgress: options.onProgress,
        onFetchProgress: options.onFetchProgress,
      });
      pools.set(wanted, pool);
    }
    return pool;
  };
  return {
    create: (spec) => route(spec).create(spec),
    restore: (spec, checkpoint) => route(spec).restore(spec, checkpoint),
  };
}

/**
 * How long a task's normalised splits stay on the device after its last trainer is gone:
 * every step restores a new trainer, and the episode's next step usually comes within this
 * (an agent's turn), so it skips normalising and uploading them again (hard_cifar's cost
 * ~0.2 s a step, for ~125 MiB held meanwhile; easy_mnist ~10 ms for 16 MiB).
 */
const KEEP_SPLITS_MS = 120_000;

/**
 * Trainers in this process, taking turns (trainer-turns.ts: concurrent CNN episodes alternate
 * epochs rather than interleave batches). A subset is decoded once per process and shared by
 * every trainer of the same task and seed. TensorFlow loads on the first trainer.
 */
function inProcessFactory(options: DatasetTrainerOptions): TrainerFactory {
  const loaded = new Map<string, Promise<TaskData>>();
  const downloads = new DatasetDownloads({
    dataDir: options.dataDir,
    baseUrl: options.fetchBaseUrl,
    onWarning: options.onWarning,
    onFetchProgress: options.onFetchProgress,
    backoff: options.fetchBackoff,
  });
  const load = (spec: TrainerSpec): Promise<TaskData> => {
    const key = `${spec.taskId}:${spec.seed}`;
    let data = loaded.get(key);
    if (!data) {
      data = loadSubset(spec, options, downloads);
      loaded.set(key, data);
      data.catch(() => loaded.delete(key));
    }
    return data;
  };
  let factory: Promise<TrainerFactory> | null = null;
  const tfjs = () => (factory ??= import('../../training/src').then((m) => m.createTfjsTrainerFactory({ loadTaskData: load, keepSplitsMs: KEEP_SPLITS_MS })));
  return takingTurns({
    create: async (spec) => (await tfjs()).create(spec),
    restore: async (spec, checkpoint) => (await tfjs()).restore(spec, checkpoint),
  });
}

/** The subset from disk; a dataset missing there is downloaded first when autoFetch is on (else its DatasetError propagates). */
async function loadSubset(spec: TrainerSpec, options: DatasetTrainerOptions, downloads: DatasetDownloads): Promise<TaskData> {
  try {
    return await loadFromDisk(spec, options);
  } catch (e) {
    if (!(e instanceof DatasetError) || e.code !== 'missing_file' || !options.autoFetch) throw e;
    await downloads.fetch(getTask(spec.taskId).dataset_name, e.message);
    return loadFromDisk(spec, options);
  }
}

function loadFromDisk(spec: TrainerSpec, options: DatasetTrainerOptions): Promise<TaskData> {
  const task = getTask(spec.taskId);
  const { official_train_size, train, val } = task.subset;
  const indices = subsetIndices(official_train_size, spec.seed, train, val);
  return loadTaskData({
    dataset: task.dataset_name,
    trainIndices: indices.train,
    valIndices: indices.val,
    dataDir: options.dataDir,
    allowUnverified: options.allowUnverified,
    onWarning: options.onWarning,
    onProgress: options.onProgress,
  });
}
