import { pythonRound } from './python-round';
import { getTask, type TaskDefinition, type TaskId } from './tasks';

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

const STABILITY_THRESHOLD = 0.01;
const GENERALISATION_GAP_LIMIT = 0.12;
const LOSS_VARIANCE_WINDOW = 10;

/** clamp(x) = min(0.9999, max(0.0001, x)): a grade is never exactly 0 or 1. */
export function clampScore(value: number): number {
  return Math.max(0.0001, Math.min(0.9999, value));
}

export function accuracyScore(valAccuracy: number, task: TaskDefinition): number {
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

function gradeEasy(input: GradeInput, task: TaskDefinition): Grade {
  const acc = accuracyScore(input.best_val_accuracy, task);
  return {
    score: pythonRound(acc, 4),
    details: { val_accuracy: pythonRound(input.best_val_accuracy, 4), accuracy_score: pythonRound(acc, 4) },
  };
}

function gradeMedium(input: GradeInput, task: TaskDefinition): Grade {
  const acc = accuracyScore(input.best_val_accuracy, task);
  const gap = overfittingGap(input);
  const gen = clampScore(1 - gap / GENERALISATION_GAP_LIMIT);
  return {
    score: pythonRound(0.6 * acc + 0.4 * gen, 4),
    details: {
      val_accuracy: pythonRound(input.best_val_accuracy, 4),
      overfitting_gap: pythonRound(gap, 4),
      accuracy_score: pythonRound(acc, 4),
      generalization_score: pythonRound(gen, 4),
    },
  };
}

function gradeHard(input: GradeInput, task: TaskDefinition): Grade {
  const acc = accuracyScore(input.best_val_accuracy, task);
  const wasted = wastedEpochs(input);
  const efficiency = clampScore(1 - wasted / Math.max(1, task.max_epochs));
  const variance = valLossVariance(input.val_loss_history);
  const stability = clampScore(1 - variance / STABILITY_THRESHOLD);
  return {
    score: pythonRound(0.5 * acc + 0.3 * efficiency + 0.2 * stability, 4),
    details: {
      val_accuracy: pythonRound(input.best_val_accuracy, 4),
      wasted_epochs: wasted,
      loss_variance: pythonRound(variance, 6),
      accuracy_score: pythonRound(acc, 4),
      efficiency_score: pythonRound(efficiency, 4),
      stability_score: pythonRound(stability, 4),
    },
  };
}

/** The seed's grader for the input's task: a deterministic score in [0.0001, 0.9999] and its breakdown. */
export function gradeEpisode(input: GradeInput): Grade {
  const task = getTask(input.task_id);
  switch (task.task_id) {
    case 'easy_mnist':
      return gradeEasy(input, task);
    case 'medium_fashion':
      return gradeMedium(input, task);
    case 'hard_cifar':
      return gradeHard(input, task);
  }
}
