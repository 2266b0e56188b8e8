import type { OptimizerKind } from '../../../core/src';
import type { PackedLayout } from '../ops/packed-variable';
import { Adam } from './adam';
import type { Optimizer, OptimizerState } from './optimizer';
import { Sgd } from './sgd';

/** A fresh optimizer for parameters packed by `layout`, or one continuing from a saved state. */
export function createOptimizer(kind: OptimizerKind, layout: PackedLayout, state?: OptimizerState): Optimizer {
  switch (kind) {
    case 'sgd':
      return new Sgd(layout, state);
    case 'adam':
      return new Adam(false, layout, state);
    case 'adamw':
      return new Adam(true, layout, state);
  }
}

/** Slot names of each optimizer (PyTorch's state names). */
export const OPTIMIZER_SLOTS: Record<OptimizerKind, readonly string[]> = {
  sgd: ['momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
};
