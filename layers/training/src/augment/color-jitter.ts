import * as tf from '@tensorflow/tfjs-node';
import type { ColorJitter } from './sample-params';

/** ITU-R 601 luma weights, as torchvision's rgb_to_grayscale. */
const LUMA = [0.299, 0.587, 0.114];

export interface ChannelNormalisation {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * torchvision's adjust_brightness and adjust_contrast on normalised NHWC RGB images:
 * back to [0, 1], blend, clamp, normalise again. Brightness blends with black, contrast
 * with the image's mean grey level; each sample has its own factors and order.
 */
export function colorJitter(images: tf.Tensor, jitter: readonly ColorJitter[], norm: ChannelNormalisation): tf.Tensor {
  const n = jitter.length;
  const perSample = (values: number[]) => tf.tensor4d(values, [n, 1, 1, 1]);
  const b = perSample(jitter.map((j) => j.brightness));
  const c = perSample(jitter.map((j) => j.contrast));
  const raw = tf.add(tf.mul(images, tf.tensor1d(norm.std as number[])), tf.tensor1d(norm.mean as number[]));
  const brightnessFirst = contrast(brightness(raw, b), c);
  const contrastFirst = brightness(contrast(raw, c), b);
  const order = tf.tensor4d(jitter.map((j) => j.brightnessFirst), [n, 1, 1, 1], 'bool');
  const mixed = tf.where(order, brightnessFirst, contrastFirst);
  return tf.div(tf.sub(mixed, tf.tensor1d(norm.mean as number[])), tf.tensor1d(norm.std as number[]));
}

function brightness(raw: tf.Tensor, factor: tf.Tensor): tf.Tensor {
  return tf.clipByValue(tf.mul(raw, factor), 0, 1);
}

function contrast(raw: tf.Tensor, factor: tf.Tensor): tf.Tensor {
  const grey = tf.mean(tf.sum(tf.mul(raw, tf.tensor1d(LUMA)), 3, true), [1, 2], true);
  const blended = tf.add(tf.mul(raw, factor), tf.mul(grey, tf.sub(1, factor)));
  return tf.clipByValue(blended, 0, 1);
}
