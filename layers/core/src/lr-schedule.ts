import type { LrScheduleState } from './episode-record';
import type { LrScheduleKind } from './training-config';

/**
 * Learning-rate schedules, (re)built by configure_training over the budget still unspent (T)
 * and advanced once per trained epoch. After adjust_learning_rate a schedule keeps its shape
 * but is anchored so that its value at the anchor position is exactly the new learning rate.
 */
export function buildSchedule(
  kind: LrScheduleKind,
  baseLr: number,
  totalEpochs: number,
  warmupEpochs: number,
): LrScheduleState {
  return { kind, base_lr: baseLr, total_epochs: totalEpochs, warmup_epochs: warmupEpochs, position: 0, anchor: null };
}

/** The schedule's multiplier of the base learning rate at epoch e (0-based, since it was built). */
export function scheduleFactor(s: Pick<LrScheduleState, 'kind' | 'total_epochs' | 'warmup_epochs'>, e: number): number {
  const T = s.total_epochs;
  switch (s.kind) {
    case 'constant':
      return 1;
    case 'step':
      return 0.1 ** Math.floor(e / Math.max(1, Math.floor(T / 3)));
    case 'cosine':
      return 0.5 * (1 + Math.cos((Math.PI * e) / Math.max(1, T)));
    case 'warmup_cosine': {
      const w = s.warmup_epochs;
      if (e < w) return (e + 1) / w;
      return 0.5 * (1 + Math.cos((Math.PI * (e - w)) / Math.max(1, T - w)));
    }
  }
}

/** The learning rate the epoch at `position` trains with. */
export function learningRateAt(s: LrScheduleState, position: number = s.position): number {
  if (s.anchor) {
    const anchorFactor = scheduleFactor(s, s.anchor.position);
    return s.anchor.lr * (scheduleFactor(s, position) / anchorFactor);
  }
  return s.base_lr * scheduleFactor(s, position);
}

/**
 * adjust_learning_rate: the next epoch trains at newLr; the schedule keeps its shape,
 * rescaled. Where its value now is 0 it cannot be rescaled and becomes constant at newLr.
 */
export function rescaleSchedule(s: LrScheduleState, newLr: number): LrScheduleState {
  if (learningRateAt(s) === 0 || scheduleFactor(s, s.position) === 0) {
    return { ...s, kind: 'constant', base_lr: newLr, anchor: null };
  }
  return { ...s, anchor: { position: s.position, lr: newLr } };
}

export function advanceSchedule(s: LrScheduleState): LrScheduleState {
  return { ...s, position: s.position + 1 };
}
