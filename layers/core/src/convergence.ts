export type ConvergenceSignal =
  | 'diverged'
  | 'not_started'
  | 'warming_up'
  | 'overfitting'
  | 'plateaued'
  | 'improving'
  | 'stalling';

const WINDOW = 5;
const PLATEAU_RANGE = 0.005;
const WARM_UP_EPOCHS = 3;

/** The first matching signal, judged on the last 5 (or fewer) recorded epochs. */
export function convergenceSignal(progress: {
  diverged: boolean;
  train_loss_history: readonly number[];
  val_loss_history: readonly number[];
}): ConvergenceSignal {
  if (progress.diverged) return 'diverged';
  const epochs = progress.val_loss_history.length;
  if (epochs === 0) return 'not_started';
  if (epochs < WARM_UP_EPOCHS) return 'warming_up';
  const val = progress.val_loss_history.slice(-WINDOW);
  const train = progress.train_loss_history.slice(-WINDOW);
  const first = val[0];
  const last = val[val.length - 1];
  if (last > first && train[train.length - 1] < train[0]) return 'overfitting';
  if (Math.max(...val) - Math.min(...val) < PLATEAU_RANGE) return 'plateaued';
  if (last < first) return 'improving';
  return 'stalling';
}
