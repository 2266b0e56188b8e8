import * as tf from '@tensorflow/tfjs-node';
import { AdamStep, applyAdam } from '../ops/optimizer-kernels';
import type { ResourceVariable } from '../ops/resource-variable';
import { need, Optimizer, OptimizerState, ParamShape, releaseReads, slotVariables, StepInputs, stepCounts, withL2 } from './optimizer';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

/**
 * torch.optim.Adam / AdamW, `decoupled` choosing AdamW:
 *   Adam:  g ← g + wd·p                 AdamW: p ← p·(1 − lr·wd)
 *   m ← m + (g − m)(1 − β1);  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * The last line is TensorFlow's fused Adam kernel with α = lr·√(1 − β2^t)/(1 − β1^t) and
 * ε' = ε·√(1 − β2^t): the same value, in one pass instead of a dozen.
 */
export class Adam implements Optimizer {
  readonly kind: 'adam' | 'adamw';
  private readonly m: Map<string, ResourceVariable>;
  private readonly v: Map<string, ResourceVariable>;
  private readonly counts: Map<string, number>;

  constructor(private readonly decoupled: boolean, params: readonly ParamShape[], state?: OptimizerState) {
    this.kind = decoupled ? 'adamw' : 'adam';
    this.m = slotVariables('exp_avg', params, state);
    this.v = slotVariables('exp_avg_sq', params, state);
    this.counts = stepCounts(params, state);
  }

  steps(): ReadonlyMap<string, number> {
    return this.counts;
  }

  step({ params, values, grads, lr, weightDecay }: StepInputs): void {
    const effective = new Map<string, tf.Tensor>();
    for (const [name, variable] of params) {
      const value = need(values, name);
      if (!this.decoupled) effective.set(name, withL2(need(grads, name), value, weightDecay));
      else {
        effective.set(name, need(grads, name));
        if (weightDecay !== 0) {
          const decayed = tf.mul(value, 1 - lr * weightDecay);
          variable.assign(decayed);
          decayed.dispose();
        }
      }
    }
    releaseReads(values);
    const scalars = new Map<number, AdamStep>();
    for (const [name, variable] of params) {
      const t = need(this.counts, name) + 1;
      this.counts.set(name, t);
      if (!scalars.has(t)) scalars.set(t, adamScalars(lr, t));
      applyAdam(variable, need(this.m, name), need(this.v, name), need(effective, name), scalars.get(t)!);
    }
  }

  slots(): ReadonlyMap<string, ReadonlyMap<string, ResourceVariable>> {
    return new Map([['exp_avg', this.m], ['exp_avg_sq', this.v]]);
  }

  dispose(): void {
    this.m.forEach((v) => v.dispose());
    this.v.forEach((v) => v.dispose());
  }
}

/** The kernel's scalars for step t, bias corrections computed in double precision. */
function adamScalars(lr: number, t: number): AdamStep {
  const correction2 = Math.sqrt(1 - ADAM_BETA2 ** t);
  return {
    alpha: tf.scalar((lr * correction2) / (1 - ADAM_BETA1 ** t)),
    epsilon: tf.scalar(ADAM_EPSILON * correction2),
    beta1: tf.scalar(ADAM_BETA1),
    beta2: tf.scalar(ADAM_BETA2),
    zero: tf.scalar(0),
  };
}
