import type { TrainerSpec } from '../../layers/core/src/trainer-port';
import { TrainingConfig, trainingConfigSchema } from '../../layers/core/src/training-config';
import type { TaskData } from '../../layers/datasets/src/task-data';
import { createTfjsTrainerFactory } from '../../layers/training/src';
import { TOY_TASKS, toyTaskData } from './toy-data';

export type ToyTask = (typeof TOY_TASKS)[number];

/** A factory whose loader serves toy data of each task's shape, counting the loads. */
export function toyFactory(train = 96, val = 64, options: { yieldEveryMs?: number } = {}) {
  const loads: string[] = [];
  const cache = new Map<string, TaskData>();
  const factory = createTfjsTrainerFactory({
    async loadTaskData(spec: TrainerSpec) {
      loads.push(spec.taskId);
      const task = TOY_TASKS.find((t) => t.taskId === spec.taskId)!;
      if (!cache.has(spec.taskId)) cache.set(spec.taskId, toyTaskData(task.dataset, train, val, spec.seed));
      return cache.get(spec.taskId)!;
    },
    ...options,
  });
  return { factory, loads };
}

export function config(overrides: Partial<Record<keyof TrainingConfig, unknown>> = {}): TrainingConfig {
  return trainingConfigSchema.parse(overrides);
}

export function specOf(task: ToyTask): TrainerSpec {
  return { taskId: task.taskId, seed: task.seed };
}
