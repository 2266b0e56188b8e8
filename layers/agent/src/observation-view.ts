import { gradeEpisode, isTaskId, type Grade, type Observation } from '../../core/src';

/**
 * The observation fields a tool result carries, read defensively (a result from a
 * server is JSON of unknown provenance). Missing numbers read as 0, lists as [].
 */
export function readObservation(data: Record<string, unknown>, fallback: Observation): Observation {
  const num = (key: keyof Observation): number => {
    const v = data[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : (fallback[key] as number);
  };
  const nullableNum = (key: 'train_loss' | 'val_loss'): number | null => {
    if (!(key in data)) return fallback[key];
    const v = data[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const list = (key: 'loss_history_last_10' | 'val_loss_history_last_10'): number[] => {
    const v = data[key];
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)) : fallback[key];
  };
  return {
    task_id: typeof data.task_id === 'string' ? data.task_id : fallback.task_id,
    step_count: num('step_count'),
    max_steps: num('max_steps'),
    current_epoch: num('current_epoch'),
    max_epochs: num('max_epochs'),
    remaining_budget: num('remaining_budget'),
    train_loss: nullableNum('train_loss'),
    val_loss: nullableNum('val_loss'),
    train_accuracy: num('train_accuracy'),
    val_accuracy: num('val_accuracy'),
    best_val_accuracy: num('best_val_accuracy'),
    best_val_epoch: num('best_val_epoch'),
    loss_history_last_10: list('loss_history_last_10'),
    val_loss_history_last_10: list('val_loss_history_last_10'),
    convergence_signal: (typeof data.convergence_signal === 'string' ? data.convergence_signal : fallback.convergence_signal) as Observation['convergence_signal'],
    is_diverged: typeof data.is_diverged === 'boolean' ? data.is_diverged : fallback.is_diverged,
  };
}

/**
 * The grade the episode would get if it were submitted now, from what an observation
 * shows (the grader reads the last 10 val losses and the last epoch's accuracies, which
 * the observation carries, rounded). Null for a task the core does not know.
 */
export function gradeIfSubmittedNow(obs: Observation): Grade | null {
  if (!isTaskId(obs.task_id)) return null;
  const trained = obs.current_epoch > 0;
  return gradeEpisode({
    task_id: obs.task_id,
    current_epoch: obs.current_epoch,
    best_val_accuracy: obs.best_val_accuracy,
    best_val_epoch: obs.best_val_epoch,
    train_loss_history: obs.loss_history_last_10,
    val_loss_history: obs.val_loss_history_last_10,
    train_acc_history: trained ? [obs.train_accuracy] : [],
    val_acc_history: trained ? [obs.val_accuracy] : [],
  });
}

/** Epochs the episode has spent (over every model). */
export function epochsUsed(obs: Observation): number {
  return Math.max(0, obs.max_epochs - obs.remaining_budget);
}
