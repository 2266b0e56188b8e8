import * as tf from '@tensorflow/tfjs-node';
import { attr, lazyAttrs, runKernel } from './kernels';
import { oneDnnLabel } from './onednn';

/** 3×3 (any odd k) convolution, stride 1, 'same' zero padding, NHWC, filter HWIO. */
const convAttrs = lazyAttrs(() => [
  attr.dtype('T'),
  attr.ints('strides', [1, 1, 1, 1]),
  attr.string('padding', 'SAME'),
  attr.string('data_format', 'NHWC'),
  attr.ints('dilations', [1, 1, 1, 1]),
]);
const convWithBiasAttrs = lazyAttrs(() => [...convAttrs(), oneDnnLabel()]);
const biasAttrs = lazyAttrs(() => [attr.dtype('T'), attr.string('data_format', 'NHWC')]);
/** MatMul's attribute lists, indexed by 2·transposeA + transposeB. */
const matMulAttrs = [false, true].flatMap((a) => [false, true].map((b) =>
  lazyAttrs(() => [attr.dtype('T'), attr.bool('transpose_a', a), attr.bool('transpose_b', b)])));

export function conv2dSame(x: tf.Tensor, filter: tf.Tensor): tf.Tensor {
  return runKernel('Conv2D', convAttrs(), [x, filter]);
}

/**
 * Convolution plus per-channel bias. With `oneDnn`, one oneDNN kernel (the same values as
 * Conv2D then BiasAdd, without the second pass over the output: ~2× faster on the first
 * layers, whose output is large and whose convolution is cheap).
 */
export function conv2dSameWithBias(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, oneDnn: boolean): tf.Tensor {
  if (!oneDnn) return biasAdd(conv2dSame(x, filter), bias);
  return runKernel('_MklNativeConv2DWithBias', convWithBiasAttrs(), [x, filter, bias]);
}

export function conv2dFilterGrad(x: tf.Tensor, dy: tf.Tensor, filterShape: readonly number[]): tf.Tensor {
  const sizes = tf.tensor1d(filterShape as number[], 'int32');
  return runKernel('Conv2DBackpropFilter', convAttrs(), [x, sizes, dy]);
}

export function conv2dInputGrad(filter: tf.Tensor, dy: tf.Tensor, inputShape: readonly number[]): tf.Tensor {
  const sizes = tf.tensor1d(inputShape as number[], 'int32');
  return runKernel('Conv2DBackpropInput', convAttrs(), [sizes, filter, dy]);
}

/** Adds a per-channel bias along the last axis. */
export function biasAdd(x: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return runKernel('BiasAdd', biasAttrs(), [x, bias]);
}

/** The bias gradient: dy summed over every axis but the last. */
export function biasAddGrad(dy: tf.Tensor): tf.Tensor {
  return runKernel('BiasAddGrad', biasAttrs(), [dy]);
}

export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return runKernel('MatMul', matMulAttrs[2 * Number(transposeA) + Number(transposeB)]!(), [a, b]);
}
