import * as tf from '@tensorflow/tfjs-node';
import type { OptimizerKind } from '../../../core/src';
import { PackedLayout, PackedVariable } from '../ops/packed-variable';

/** Saved optimizer state: per-parameter step counts and slot values (PyTorch's state names). */
export interface OptimizerState {
  steps: Map<string, number>;
  /** slot name → parameter name → values. */
  slots: Map<string, Map<string, Float32Array>>;
}

export interface StepInputs {
  /** Every parameter, packed in one variable that the update changes in place. */
  params: PackedVariable;
  /** This step's reads of the parameters; the optimizer disposes them before updating in place. */
  values: ReadonlyMap<string, tf.Tensor>;
  grads: ReadonlyMap<string, tf.Tensor>;
  lr: number;
  weightDecay: number;
}

/**
 * An optimizer with PyTorch's update rules. Its slots are packed like the parameters, so one
 * fused kernel updates each group of parameters (all parameters step together, as they do
 * in the environment: each batch updates the whole model).
 */
export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Steps taken per parameter (PyTorch's state[p]['step']). */
  steps(): ReadonlyMap<string, number>;
  /** One update of every parameter; call inside tf.tidy. */
  step(inputs: StepInputs): void;
  /** slot name → the slot's values, packed like the parameters. */
  slots(): ReadonlyMap<string, PackedVariable>;
  dispose(): void;
}

/** A slot's variable: restored values, or zeros. */
export function slotVariable(slot: string, layout: PackedLayout, state?: OptimizerState): PackedVariable {
  const saved = state?.slots.get(slot);
  return saved ? PackedVariable.fromHost(layout, saved) : PackedVariable.zeros(layout);
}

/** The step count shared by every parameter (0 when fresh). */
export function sharedStepCount(layout: PackedLayout, state?: OptimizerState): number {
  if (!state) return 0;
  const counts = new Set(layout.names.map((name) => need(state.steps, name)));
  if (counts.size !== 1) throw new Error(`the parameters' step counts differ (${[...counts].join(', ')}); this engine steps every parameter together`);
  return [...counts][0]!;
}

/** Every parameter name mapped to the same step count. */
export function stepsByName(layout: PackedLayout, count: number): Map<string, number> {
  return new Map(layout.names.map((name) => [name, count]));
}

/**
 * Disposes the parameter reads before the in-place kernels run, so that TensorFlow does
 * not copy the variable's buffer to keep the reads intact (copy-on-write).
 */
export function releaseReads(values: ReadonlyMap<string, tf.Tensor>): void {
  values.forEach((t) => t.dispose());
}

/** The gradient per group, plus PyTorch's coupled weight decay (`grad.add(param, alpha=wd)`) when wd ≠ 0. */
export function packedGradient({ params, grads, weightDecay }: StepInputs, coupledDecay: boolean): tf.Tensor[] {
  const g = params.layout.pack(grads);
  if (!coupledDecay || weightDecay === 0) return g;
  const p = params.read();
  try {
    return g.map((gi, i) => tf.add(gi, tf.mul(p[i]!, weightDecay)));
  } finally {
    p.forEach((t) => t.dispose());
  }
}

export function need<T>(map: ReadonlyMap<string, T>, name: string): T {
  const v = map.get(name);
  if (v === undefined) throw new Error(`no entry for parameter ${name}`);
  return v;
}

/** Scalars used by every step, made once per optimizer instead of per batch. */
export class KeptScalars {
  private readonly cache = new Map<number, tf.Tensor>();

  get(value: number): tf.Tensor {
    let t = this.cache.get(value);
    if (!t) {
      t = tf.keep(tf.scalar(value));
      this.cache.set(value, t);
    }
    return t;
  }

  dispose(): void {
    this.cache.forEach((t) => t.dispose());
    this.cache.clear();
  }
}
