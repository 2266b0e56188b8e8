import * as tf from '@tensorflow/tfjs-node';
import type { DatasetName, TorchGenerator } from '../../../datasets/src';
import { NORMALISATION, blackLevel } from '../data/normalization';
import { projectiveTransform } from '../ops/image-transform';
import { isIdentity, transformRow } from './affine';
import { colorJitter } from './color-jitter';
import { drawSampleAugmentation } from './sample-params';

/**
 * Train-time augmentation of one normalised NHWC batch, all samples in a few batched
 * kernels: one nearest-neighbour projective transform for the geometry (rotation,
 * translation, crop, flip), then CIFAR's colour jitter. Pixels from outside the image
 * are black (raw 0). Random parameters come from `g`, whose state is checkpointed.
 */
export function augmentBatch(images: tf.Tensor, dataset: DatasetName, strength: number, g: TorchGenerator): tf.Tensor {
  const [n, height, width] = images.shape as [number, number, number, number];
  const samples = Array.from({ length: n }, () => drawSampleAugmentation(g, dataset, strength, width, height));
  let out = images;
  if (!samples.every((s) => isIdentity(s.geometry))) {
    const transforms = tf.tensor2d(samples.flatMap((s) => transformRow(s.geometry)), [n, 8]);
    out = transformWithFill(out, transforms, blackLevel(dataset));
  }
  const jitter = samples.flatMap((s) => (s.color ? [s.color] : []));
  if (jitter.length === n) out = colorJitter(out, jitter, NORMALISATION[dataset]);
  return out;
}

/** The kernel fills with one scalar; per-channel fills are applied by shifting around it. */
function transformWithFill(images: tf.Tensor, transforms: tf.Tensor, fill: number[]): tf.Tensor {
  if (fill.every((f) => f === fill[0])) return projectiveTransform(images, transforms, fill[0]!);
  const level = tf.tensor1d(fill);
  return tf.add(projectiveTransform(tf.sub(images, level), transforms, 0), level);
}
