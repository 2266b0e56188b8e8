import type * as tf from '@tensorflow/tfjs-node';
import type { TorchGenerator } from '../../../datasets/src';
import type { BatchNormKernels } from '../ops/batch-norm';

export interface ParamSpec {
  /** PyTorch's state_dict name. */
  name: string;
  /** Shape in this engine's layout. */
  shape: number[];
  /** Draws the initial values (PyTorch's order of draws), returned in this engine's layout. */
  init(g: TorchGenerator): Float32Array;
}

/** Non-trainable state (batch-norm running statistics). */
export interface BufferSpec {
  name: string;
  shape: number[];
  initialValue: number;
}

export interface KernelChoice {
  batchNorm: BatchNormKernels;
  /** Use the labelled oneDNN kernels for pooling and conv + bias (ops/onednn.ts). */
  oneDnn: boolean;
}

export interface PassContext {
  readonly training: boolean;
  readonly params: ReadonlyMap<string, tf.Tensor>;
  /** Current buffers; a training pass replaces the entries it updates. */
  readonly buffers: Map<string, tf.Tensor>;
  /** Seed word of this batch's dropout masks. */
  readonly dropoutSeed: number;
  readonly kernels: KernelChoice;
}

/**
 * Given dy, records the layer's parameter gradients in `grads` and returns dx, or null
 * when the caller does not need it (the first layer with parameters).
 */
export type Backward = (dy: tf.Tensor, grads: Map<string, tf.Tensor>, needInputGrad: boolean) => tf.Tensor | null;

export interface LayerStep {
  y: tf.Tensor;
  backward: Backward;
}

/** One layer with a hand-written backward pass over TensorFlow kernels. */
export interface Layer {
  readonly params: readonly ParamSpec[];
  readonly buffers: readonly BufferSpec[];
  forward(x: tf.Tensor, ctx: PassContext): LayerStep;
}

export function param(ctx: PassContext, name: string): tf.Tensor {
  const t = ctx.params.get(name);
  if (!t) throw new Error(`parameter ${name} is missing`);
  return t;
}

export function buffer(ctx: PassContext, name: string): tf.Tensor {
  const t = ctx.buffers.get(name);
  if (!t) throw new Error(`buffer ${name} is missing`);
  return t;
}
