import * as tf from '@tensorflow/tfjs-node';
import { statelessUniform } from '../ops/random';
import { Layer } from './layer';

/**
 * nn.Dropout(p): in training, keeps each value with probability 1 − p and divides kept
 * values by 1 − p; the identity when p = 0 or in evaluation. `ordinal` tells the
 * model's dropout layers apart within a batch: its mask is seeded by (batch seed, ordinal).
 */
export function dropoutLayer(p: number, ordinal: number): Layer {
  return {
    params: [],
    buffers: [],
    forward(x, ctx) {
      if (!ctx.training || p === 0) return { y: x, backward: (dy) => dy };
      const uniform = statelessUniform(x.shape, [ctx.dropoutSeed, ordinal]);
      // PyTorch: noise.bernoulli_(1 - p); noise.div_(1 - p); input * noise
      const mask = tf.div(tf.cast(tf.less(uniform, 1 - p), 'float32'), 1 - p);
      return { y: tf.mul(x, mask), backward: (dy) => tf.mul(dy, mask) };
    },
  };
}
