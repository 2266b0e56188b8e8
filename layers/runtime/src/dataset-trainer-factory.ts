import { getTask, type TrainerFactory, type TrainerSpec } from '../../core/src';
import { subsetIndices } from '../../datasets/src/subset';
import { DatasetError } from '../../datasets/src/dataset-error';
import { fetchDataset, type FetchProgress } from '../../datasets/src/fetch';
import type { TaskData } from '../../datasets/src/task-data';
import { loadTaskData, type LoadProgress } from '../../datasets/src/task-data-loader';
import { createTfjsTrainerFactory } from '../../training/src/trainer-factory';

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
}

/**
 * Real trainers (tfjs-node) fed with the task's subset of the official training split,
 * drawn with the episode's seed. A subset is decoded once per process and shared by every
 * trainer of the same task and seed.
 */
export function datasetTrainerFactory(options: DatasetTrainerOptions): TrainerFactory {
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
  return createTfjsTrainerFactory({ loadTaskData: load });
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
