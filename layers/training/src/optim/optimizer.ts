import * as tf from '@tensorflow/tfjs-node';
import type { OptimizerKind } from '../../../core/src/training-config';
import { ResourceVariable } from '../ops/resource-variable';

export interface ParamShape {
  name: string;
  shape: readonly number[];
}

/** Saved optimizer state: per-parameter step counts and slot values (PyTorch's state names). */
export interface OptimizerState {
  steps: Map<string, number>;
  /** slot name → parameter name → values. */
  slots: Map<string, Map<string, Float32Array>>;
}

export interface StepInputs {
  params: ReadonlyMap<string, ResourceVariable>;
  /** This step's reads of the parameters; the optimizer disposes them before updating in place. */
  values: ReadonlyMap<string, tf.Tensor>;
  grads: ReadonlyMap<string, tf.Tensor>;
  lr: number;
  weightDecay: number;
}

/** An optimizer with PyTorch's update rules, updating resource variables in place. */
export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Steps taken per parameter (PyTorch's state[p]['step']). */
  steps(): ReadonlyMap<string, number>;
  /** One update of every parameter; call inside tf.tidy. */
  step(inputs: StepInputs): void;
  /** slot name → parameter name → variable. */
  slots(): ReadonlyMap<string, ReadonlyMap<string, ResourceVariable>>;
  dispose(): void;
}

/** Slot variables per parameter: restored values, or zeros. */
export function slotVariables(slot: string, params: readonly ParamShape[], state?: OptimizerState): Map<string, ResourceVariable> {
  const saved = state?.slots.get(slot);
  return new Map(params.map((p) => {
    const values = saved?.get(p.name) ?? new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    return [p.name, ResourceVariable.fromValues(values, p.shape)];
  }));
}

export function stepCounts(params: readonly ParamShape[], state?: OptimizerState): Map<string, number> {
  return new Map(params.map((p) => [p.name, state?.steps.get(p.name) ?? 0]));
}

/**
 * Disposes the parameter reads before the in-place kernels run, so that TensorFlow does
 * not copy each variable's buffer to keep the reads intact (copy-on-write).
 */
export function releaseReads(values: ReadonlyMap<string, tf.Tensor>): void {
  values.forEach((t) => t.dispose());
}

/** g + wd·p (PyTorch's `grad.add(param, alpha=weight_decay)`), or g when wd is 0. */
export function withL2(grad: tf.Tensor, value: tf.Tensor, weightDecay: number): tf.Tensor {
  return weightDecay !== 0 ? tf.add(grad, tf.mul(value, weightDecay)) : grad;
}

export function need<T>(map: ReadonlyMap<string, T>, name: string): T {
  const v = map.get(name);
  if (v === undefined) throw new Error(`no entry for parameter ${name}`);
  return v;
}
