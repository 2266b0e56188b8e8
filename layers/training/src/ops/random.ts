import * as tf from '@tensorflow/tfjs-node';
import { attr, runKernel } from './kernels';

/**
 * Uniform [0, 1) floats that depend only on the shape and the two seed words
 * (TensorFlow's counter-based StatelessRandomUniform): the stream lives in our own
 * checkpointed generator, which supplies the seed.
 */
export function statelessUniform(shape: readonly number[], seed: readonly [number, number]): tf.Tensor {
  const shapeTensor = tf.tensor1d(shape as number[], 'int32');
  const seedTensor = tf.tensor1d([seed[0] | 0, seed[1] | 0], 'int32');
  return runKernel(
    'StatelessRandomUniform',
    [attr.dtype('dtype'), attr.dtype('T', 'int32'), attr.dtype('Tseed', 'int32')],
    [shapeTensor, seedTensor],
  );
}
