import type { TaskDefinition, TaskId } from './tasks/task-definition';

/** The trainer metrics a grade is computed from (the "stored trainer metrics"). */
export interface GradeInput {
  task_id: TaskId;
  current_epoch: number;
  best_val_accuracy: number;
  best_val_epoch: number;
  train_loss_history: number[];
  val_loss_history: number[];
  train_acc_history: number[];
  val_acc_history: number[];
}

export interface Grade {
  score: number;
  details: Record<string, number>;
}

/** Val-loss variance at which the stability score reaches 0. */
export const STABILITY_THRESHOLD = 0.01;
/** Train/val gap at which the generalisation score reaches 0. */
export const GENERALISATION_GAP_LIMIT = 0.12;
const LOSS_VARIANCE_WINDOW = 10;

/** clamp(x) = min(0.9999, max(0.0001, x)): a grade is never exactly 0 or 1. */
export function clampScore(value: number): number {
  return Math.max(0.0001, Math.min(0.9999, value));
}

export function accuracyScore(valAccuracy: number, task: Pick<TaskDefinition, 'min_score_accuracy' | 'max_score_accuracy'>): number {
  return clampScore((valAccuracy - task.min_score_accuracy) / (task.max_score_accuracy - task.min_score_accuracy));
}

/** Last train accuracy minus last val accuracy; 0 before any epoch. */
export function overfittingGap(input: Pick<GradeInput, 'train_acc_history' | 'val_acc_history'>): number {
  const train = input.train_acc_history;
  const val = input.val_acc_history;
  if (train.length === 0 || val.length === 0) return 0;
  return train[train.length - 1] - val[val.length - 1];
}

/** Epochs trained after the best one; 0 while there is no best epoch. */
export function wastedEpochs(input: Pick<GradeInput, 'current_epoch' | 'best_val_epoch'>): number {
  if (input.best_val_epoch === 0) return 0;
  return Math.max(0, input.current_epoch - input.best_val_epoch);
}

/** Population variance of the last 10 val losses, summed left to right as the seed's Python does; 0 with fewer than 2. */
export function valLossVariance(valLosses: readonly number[]): number {
  if (valLosses.length < 2) return 0;
  const window = valLosses.slice(-LOSS_VARIANCE_WINDOW);
  let sum = 0;
  for (const v of window) sum += v;
  const mean = sum / window.length;
  let squares = 0;
  for (const v of window) squares += (v - mean) ** 2;
  return squares / window.length;
}

export function generalisationScore(gap: number): number {
  return clampScore(1 - gap / GENERALISATION_GAP_LIMIT);
}

export function efficiencyScore(wasted: number, maxEpochs: number): number {
  return clampScore(1 - wasted / Math.max(1, maxEpochs));
}

export function stabilityScore(variance: number): number {
  return clampScore(1 - variance / STABILITY_THRESHOLD);
}

/** The accuracy score in words, for an agent's prompt. */
export function accuracyScoreText(task: Pick<TaskDefinition, 'min_score_accuracy' | 'max_score_accuracy'>): string {
  const { min_score_accuracy: min, max_score_accuracy: max } = task;
  return `acc_score = clamp((best_val_accuracy - ${min}) / (${max} - ${min})), clamp to [0.0001, 0.9999]`;
}
