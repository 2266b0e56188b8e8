import { createCipheriv } from 'node:crypto';
import { getTask } from '../../core/src';
import { DatasetError, findDatasetFolder, getDatasetSpec, loadTaskData, subsetIndices, type TaskData } from '../../datasets/src';
import type { DataSource } from './report';

/** Deterministic pseudo-random bytes (the AES-128-CTR keystream of a seed): native speed, same bytes every run. */
export function seededBytes(length: number, seed: number, stream: number): Uint8Array {
  const key = Buffer.alloc(16);
  key.writeUInt32LE(seed >>> 0, 0);
  key.writeUInt32LE(stream >>> 0, 4);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const out = cipher.update(Buffer.alloc(length));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Random uint8 images and labels in the task's shape and subset sizes (timing only: values do not matter). */
export function randomTaskData(taskId: string, seed = 12345): TaskData {
  const task = getTask(taskId);
  const dataset = task.dataset_name;
  const { channels, height, width } = getDatasetSpec(dataset);
  const shape = { channels, height, width };
  const split = (count: number, stream: number) => {
    const images = seededBytes(count * shape.channels * shape.height * shape.width, seed, stream);
    const labels = seededBytes(count, seed, stream + 1).map((b) => b % 10);
    return { images, labels, count };
  };
  return { dataset, ...shape, train: split(task.subset.train, 0), val: split(task.subset.val, 2) };
}

export interface BenchData {
  data: TaskData;
  source: DataSource;
  /** The folder the real files were read from (null for random data). */
  folder: string | null;
  warnings: string[];
  /** Why random data was used, when it was not asked for. */
  fallbackReason?: string;
}

/**
 * The task's subset (with the task's own seed): the real one when its files are on disk
 * (unverified files accepted with a warning, e.g. the CIFAR JPEG stand-in), else random
 * data of the right shape. mode 'real' refuses the fallback; 'random' skips the disk.
 */
export async function loadBenchData(
  taskId: string,
  mode: 'auto' | DataSource,
  dataDir: string,
  onWarning: (message: string) => void,
): Promise<BenchData> {
  if (mode === 'random') return { data: randomTaskData(taskId), source: 'random', folder: null, warnings: [] };
  const task = getTask(taskId);
  const dataset = task.dataset_name;
  const { official_train_size, train, val } = task.subset;
  const indices = subsetIndices(official_train_size, task.seed, train, val);
  const warnings: string[] = [];
  try {
    const data = await loadTaskData({
      dataset,
      trainIndices: indices.train,
      valIndices: indices.val,
      dataDir,
      allowUnverified: true,
      onWarning: (message) => {
        warnings.push(message);
        onWarning(message);
      },
    });
    return { data, source: 'real', folder: findDatasetFolder(dataDir, getDatasetSpec(dataset)), warnings };
  } catch (e) {
    if (mode === 'real' || !(e instanceof DatasetError) || e.code !== 'missing_file') throw e;
    const reason = `${dataset} is not in ${dataDir} (${e.message.split('. ')[0]}); timing ${taskId} on random data`;
    onWarning(reason);
    return { data: randomTaskData(taskId), source: 'random', folder: null, warnings: [...warnings, reason], fallbackReason: reason };
  }
}
