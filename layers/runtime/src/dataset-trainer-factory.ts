import { getTask, type TrainerFactory, type TrainerSpec } from '../../core/src';
import { DatasetError, fetchDataset, type FetchProgress, type LoadProgress, loadTaskData, subsetIndices, type TaskData } from '../../datasets/src';
import { intraOpThreadsForTask, processIntraOpThreads } from './task-threads';
import { TrainerWorker } from './worker-trainer-factory';

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
  /**
   * Train every task in this process, whatever thread count suits it (default: false, or
   * true when ML_TRAINER_WORKERS=off). Otherwise a task whose best TensorFlow thread count
   * (task-threads.ts) differs from this process's trains in a worker process with that count.
   */
  inProcessOnly?: boolean;
}

/**
 * Real trainers (tfjs-node) fed with the task's subset of the official training split,
 * drawn with the episode's seed, each on the TensorFlow thread count that suits its task:
 * in this process when that is this process's count, else in a worker process.
 */
export function datasetTrainerFactory(options: DatasetTrainerOptions): TrainerFactory {
  const here = inProcessFactory(options);
  if (options.inProcessOnly ?? process.env.ML_TRAINER_WORKERS === 'off') return here;
  const threads = processIntraOpThreads();
  const workers = new Map<number, TrainerWorker>();
  const route = (spec: TrainerSpec): TrainerFactory => {
    const wanted = intraOpThreadsForTask(spec.taskId);
    if (wanted === threads) return here;
    let worker = workers.get(wanted);
    if (!worker) {
      worker = new TrainerWorker({
        threads: wanted,
        dataset: { dataDir: options.dataDir, allowUnverified: options.allowUnverified, autoFetch: options.autoFetch ?? false },
        onWarning: options.onWarning,
        onProgress: options.onProgress,
        onFetchProgress: options.onFetchProgress,
      });
      workers.set(wanted, worker);
    }
    return worker;
  };
  return {
    create: (spec) => route(spec).create(spec),
    restore: (spec, checkpoint) => route(spec).restore(spec, checkpoint),
  };
}

/**
 * Trainers in this process. A subset is decoded once per process and shared by every
 * trainer of the same task and seed. TensorFlow loads on the first trainer.
 */
function inProcessFactory(options: DatasetTrainerOptions): TrainerFactory {
  const loaded = new Map<string, Promise<TaskData>>();
  const load = (spec: TrainerSpec): Promise<TaskData> => {
    const key = `${spec.taskId}:${spec.seed}`;
    let data = loaded.get(key);
    if (!data) {
      data = loadSubset(spec, options);
      loaded.set(key, data);
      data.catch(() => loaded.delete(key));
    }
    return data;
  };
  let factory: Promise<TrainerFactory> | null = null;
  const tfjs = () => (factory ??= import('../../training/src').then((m) => m.createTfjsTrainerFactory({ loadTaskData: load })));
  return {
    create: async (spec) => (await tfjs()).create(spec),
    restore: async (spec, checkpoint) => (await tfjs()).restore(spec, checkpoint),
  };
}

async function loadSubset(spec: TrainerSpec, options: DatasetTrainerOptions): Promise<TaskData> {
  try {
    return await loadFromDisk(spec, options);
  } catch (e) {
    if (!(e instanceof DatasetError) || e.code !== 'missing_file' || !options.autoFetch) throw e;
    await fetchMissing(spec, options, e);
    return loadFromDisk(spec, options);
  }
}

async function fetchMissing(spec: TrainerSpec, options: DatasetTrainerOptions, missing: DatasetError): Promise<void> {
  const dataset = getTask(spec.taskId).dataset_name;
  options.onWarning(`${missing.message}; downloading ${dataset} from its official locations`);
  try {
    await fetchDataset({ dataset, dataDir: options.dataDir, onProgress: options.onFetchProgress });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DatasetError(
      'missing_file',
      `${dataset} is not on disk and could not be downloaded (${reason}). Without internet access, copy the ` +
        `official files into a folder and point --data-dir or ML_TRAINER_DATA_DIR at it ` +
        `(it needs a ${dataset}/ sub-folder with the official file names).`,
    );
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
