import * as tf from '@tensorflow/tfjs-node';
import { attr, lazyAttrs, runKernelOutputs } from './kernels';
import type { ResourceVariable } from './resource-variable';

const APPLY_ATTRS = lazyAttrs(() => [attr.dtype('T'), attr.bool('use_locking', false), attr.bool('use_nesterov', false)]);

/** In place, one fused kernel: accum ← momentum·accum + grad; var ← var − lr·accum. Scalars as float32 tensors. */
export function applyMomentum(v: ResourceVariable, accum: ResourceVariable, lr: tf.Tensor, grad: tf.Tensor, momentum: tf.Tensor): void {
  runKernelOutputs('ResourceApplyMomentum', APPLY_ATTRS(), [v.resource, accum.resource, lr, grad, momentum], 0);
}

/** Scalars of one Adam step, as float32 tensors shared by the parameters. */
export interface AdamStep {
  /** Step size with both bias corrections folded in. */
  alpha: tf.Tensor;
  epsilon: tf.Tensor;
  beta1: tf.Tensor;
  beta2: tf.Tensor;
  zero: tf.Tensor;
}

/**
 * In place, one fused kernel: m ← m + (g − m)(1 − β1); v ← v + (g² − v)(1 − β2);
 * var ← var − α·m / (√v + ε). The kernel's own bias correction is switched off
 * (β powers passed as 0) because the caller folds it into α and ε in double precision.
 */
export function applyAdam(v: ResourceVariable, m: ResourceVariable, s: ResourceVariable, grad: tf.Tensor, step: AdamStep): void {
  runKernelOutputs('ResourceApplyAdam', APPLY_ATTRS(), [
    v.resource, m.resource, s.resource, step.zero, step.zero, step.alpha, step.beta1, step.beta2, step.epsilon, grad,
  ], 0);
}
