import { convergenceSignal, type ConvergenceSignal } from './convergence';
import type { EpisodeRecord } from './episode-record';
import { pythonRound } from './python-round';
import { getTask } from './tasks';

/** What the agent sees after every step (rounded as the contract says). */
export interface Observation {
  task_id: string;
  step_count: number;
  max_steps: number;
  current_epoch: number;
  max_epochs: number;
  remaining_budget: number;
  /** null where the value is not finite (a diverged epoch). */
  train_loss: number | null;
  val_loss: number | null;
  train_accuracy: number;
  val_accuracy: number;
  best_val_accuracy: number;
  best_val_epoch: number;
  loss_history_last_10: number[];
  val_loss_history_last_10: number[];
  convergence_signal: ConvergenceSignal;
  is_diverged: boolean;
}

const HISTORY_WINDOW = 10;

function last(values: readonly number[]): number {
  return values.length > 0 ? values[values.length - 1] : 0;
}

function lastTen(values: readonly number[]): number[] {
  return values.slice(-HISTORY_WINDOW).map((v) => pythonRound(v, 4));
}

export function remainingBudget(record: EpisodeRecord): number {
  return Math.max(0, getTask(record.task_id).max_epochs - record.budget_used);
}

export function buildObservation(record: EpisodeRecord): Observation {
  const m = record.model;
  const trainLoss = m.diverged ? m.diverged_train_loss : last(m.train_loss_history);
  return {
    task_id: record.task_id,
    step_count: record.step_count,
    max_steps: record.max_steps,
    current_epoch: m.current_epoch,
    max_epochs: getTask(record.task_id).max_epochs,
    remaining_budget: remainingBudget(record),
    // Stryker disable next-line ConditionalExpression: pythonRound gives back what is not a finite number, null too; the check is for the type
    train_loss: trainLoss === null ? null : pythonRound(trainLoss, 6),
    val_loss: m.diverged ? null : pythonRound(last(m.val_loss_history), 6),
    train_accuracy: pythonRound(last(m.train_acc_history), 4),
    val_accuracy: pythonRound(last(m.val_acc_history), 4),
    best_val_accuracy: pythonRound(m.best_val_accuracy, 4),
    best_val_epoch: m.best_val_epoch,
    loss_history_last_10: lastTen(m.train_loss_history),
    val_loss_history_last_10: lastTen(m.val_loss_history),
    convergence_signal: convergenceSignal(m),
    is_diverged: m.diverged,
  };
}
