import type { DatasetName } from './dataset-name';
import type { ModelKind } from './model-kind';

/** A task's id: any string the task registry knows (validate with isTaskId or getTask). */
export type TaskId = string;

/** A task as the seed file defines it, plus the subset it draws from the official training split. */
export interface TaskDefinition<Id extends TaskId = TaskId> {
  task_id: Id;
  name: string;
  description: string;
  difficulty: 'easy' | 'medium' | 'hard';
  model_type: ModelKind;
  dataset_name: DatasetName;
  max_epochs: number;
  seed: number;
  target_metric: 'val_accuracy';
  target_value: number;
  /** Accuracy at or below which the accuracy score is 0 (clamped to 0.0001). */
  min_score_accuracy: number;
  /** Accuracy at or above which the accuracy score is 1 (clamped to 0.9999). */
  max_score_accuracy: number;
  subset: { official_train_size: number; train: number; val: number };
}
