import * as tf from '@tensorflow/tfjs-node';
import { AdamStep, applyAdam } from '../ops/optimizer-kernels';
import type { PackedLayout, PackedVariable } from '../ops/packed-variable';
import { KeptScalars, Optimizer, OptimizerState, packedGradient, releaseReads, sharedStepCount, slotVariable, StepInputs, stepsByName } from './optimizer';

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
  private readonly m: PackedVariable;
  private readonly v: PackedVariable;
  private count: number;
  private readonly constants = new KeptScalars();

  constructor(private readonly decoupled: boolean, private readonly layout: PackedLayout, state?: OptimizerState) {
    this.kind = decoupled ? 'adamw' : 'adam';
    this.m = slotVariable('exp_avg', layout, state);
    this.v = slotVariable('exp_avg_sq', layout, state);
    this.count = sharedStepCount(layout, state);
  }

  steps(): ReadonlyMap<string, number> {
    return stepsByName(this.layout, this.count);
  }

  step(inputs: StepInputs): void {
    const { params, lr, weightDecay } = inputs;
    const grads = packedGradient(inputs, !this.decoupled);
    if (this.decoupled && weightDecay !== 0) decay(params, 1 - lr * weightDecay);
    releaseReads(inputs.values);
    this.count++;
    const scalars = this.scalars(lr, this.count);
    params.variables.forEach((p, i) => applyAdam(p, this.m.variables[i]!, this.v.variables[i]!, grads[i]!, scalars));
  }

  slots(): ReadonlyMap<string, PackedVariable> {
    return new Map([['exp_avg', this.m], ['exp_avg_sq', this.v]]);
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
    this.constants.dispose();
  }

  /** The kernel's scalars for step t, bias corrections computed in double precision. */
  private scalars(lr: number, t: number): AdamStep {
    const correction2 = Math.sqrt(1 - ADAM_BETA2 ** t);
    return {
      alpha: tf.scalar((lr * correction2) / (1 - ADAM_BETA1 ** t)),
      epsilon: tf.scalar(ADAM_EPSILON * correction2),
      beta1: this.constants.get(ADAM_BETA1),
      beta2: this.constants.get(ADAM_BETA2),
      zero: this.constants.get(0),
    };
  }
}

/** AdamW's decoupled decay, p ← p·factor, before the update. */
function decay(params: PackedVariable, factor: number): void {
  const reads = params.read();
  const decayed = reads.map((p) => tf.mul(p, factor));
  reads.forEach((p) => p.dispose());
  params.assign(decayed);
  decayed.forEach((d) => d.dispose());
}
