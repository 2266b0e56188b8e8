import type { OptimizerKind } from '../../../core/src/training-config';
import { Adam } from './adam';
import type { Optimizer, OptimizerState, ParamShape } from './optimizer';
import { Sgd } from './sgd';

/** A fresh optimizer for these parameters, or one continuing from a saved state. */
export function createOptimizer(kind: OptimizerKind, params: readonly ParamShape[], state?: OptimizerState): Optimizer {
  switch (kind) {
    case 'sgd':
      return new Sgd(params, state);
    case 'adam':
      return new Adam(false, params, state);
    case 'adamw':
      return new Adam(true, params, state);
  }
}

/** Slot names of each optimizer (PyTorch's state names). */
export const OPTIMIZER_SLOTS: Record<OptimizerKind, readonly string[]> = {
  sgd: ['momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
};
