import { getTask, type Trainer, type TrainerFactory } from '../../../layers/core/src';
import type { DatasetCatalog } from '../../../layers/datasets/src/dataset-catalog';
import { TINY_IDX_TRAIN, tinyCatalog } from './tiny-datasets';

/** How many trainers a factory built or restored. */
export interface TrainerCalls {
  create: number;
  restore: number;
}

const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * The real tfjs trainers on the tiny official-format IDX files in `dataDir` (writeTinyIdx):
 * rows 0..39 train, 40..49 validate (a task's own subset does not fit in 50 images).
 * TensorFlow loads on the first create or restore, not before: a step that never trains
 * must not load it, and tests count that through `calls`.
 */
export function tinyIdxTrainerFactory(dataDir: string, options: { catalog?: DatasetCatalog; calls?: TrainerCalls } = {}): TrainerFactory {
  const catalog = options.catalog ?? tinyCatalog();
  let real: Promise<TrainerFactory> | undefined;
  const load = (): Promise<TrainerFactory> =>
    (real ??= (async () => {
      const { createTfjsTrainerFactory } = await import('../../../layers/training/src/trainer-factory');
      const { loadTaskData } = await import('../../../layers/datasets/src/task-data-loader');
      return createTfjsTrainerFactory({
        loadTaskData: (spec) =>
          loadTaskData({
            dataset: getTask(spec.taskId).dataset_name,
            trainIndices: rows(0, TINY_IDX_TRAIN - 10),
            valIndices: rows(TINY_IDX_TRAIN - 10, TINY_IDX_TRAIN),
            dataDir,
            catalog,
            cacheDir: null,
          }),
      });
    })());
  return {
    async create(spec): Promise<Trainer> {
      if (options.calls) options.calls.create++;
      return (await load()).create(spec);
    },
    async restore(spec, checkpoint): Promise<Trainer> {
      if (options.calls) options.calls.restore++;
      return (await load()).restore(spec, checkpoint);
    },
  };
}
