import * as tf from '@tensorflow/tfjs-node';
import { attr, runKernel } from './kernels';

/**
 * Per-image projective transform with nearest-neighbour sampling and constant fill
 * (TensorFlow's ImageProjectiveTransformV3; tfjs-node registers no kernel for tf.image.transform).
 * Row i of `transforms` is [a0, a1, a2, b0, b1, b2, c0, c1]: output pixel (x, y) reads input
 * ((a0·x + a1·y + a2) / k, (b0·x + b1·y + b2) / k) with k = c0·x + c1·y + 1.
 */
export function projectiveTransform(images: tf.Tensor, transforms: tf.Tensor, fillValue: number): tf.Tensor {
  const [, height, width] = images.shape;
  const outputShape = tf.tensor1d([height!, width!], 'int32');
  return runKernel(
    'ImageProjectiveTransformV3',
    [attr.dtype('dtype'), attr.string('interpolation', 'NEAREST'), attr.string('fill_mode', 'CONSTANT')],
    [images, transforms, outputShape, tf.scalar(fillValue)],
  );
}
