import * as tf from '@tensorflow/tfjs-node';
import type { ModelKind } from '../../layers/training/src/model/architectures';
import { statelessUniform } from '../../layers/training/src/ops/random';

/**
 * The models written the plain tfjs way (differentiable by tf.grads), in PyTorch's layer
 * order (ReLU before max-pool, batch norm from tf.moments): the reference that the
 * hand-written backward passes are checked against. Parameters in the engine's layout.
 * With `running` (buffers by name), batch norm uses those running statistics (inference mode).
 */
export function referenceLogits(
  kind: ModelKind, p: Record<string, tf.Tensor>, x: tf.Tensor4D, dropout: number, dropoutSeed: number,
  running?: ReadonlyMap<string, tf.Tensor>,
): tf.Tensor2D {
  const drop = (h: tf.Tensor2D, ordinal: number): tf.Tensor2D => {
    if (dropout === 0) return h;
    const keep = tf.cast(tf.less(statelessUniform(h.shape, [dropoutSeed, ordinal]), 1 - dropout), 'float32');
    return tf.mul(h, tf.div(keep, 1 - dropout));
  };
  const dense = (h: tf.Tensor2D, name: string) => tf.add(tf.matMul(h, p[`${name}.weight`] as tf.Tensor2D), p[`${name}.bias`]!) as tf.Tensor2D;
  const conv = (h: tf.Tensor4D, name: string) => tf.add(tf.conv2d(h, p[`${name}.weight`] as tf.Tensor4D, 1, 'same'), p[`${name}.bias`]!) as tf.Tensor4D;
  const bn = (h: tf.Tensor4D, name: string) => {
    const { mean, variance } = running
      ? { mean: running.get(`${name}.running_mean`)!, variance: running.get(`${name}.running_var`)! }
      : tf.moments(h, [0, 1, 2]);
    return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), p[`${name}.weight`]!), p[`${name}.bias`]!) as tf.Tensor4D;
  };
  const pool = (h: tf.Tensor4D) => tf.maxPool(tf.relu(h), 2, 2, 'valid');
  const flat = (h: tf.Tensor4D) => tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
  switch (kind) {
    case 'simple_mlp': {
      let h = flat(x);
      h = drop(tf.relu(dense(h, 'layers.0')), 0);
      h = drop(tf.relu(dense(h, 'layers.3')), 1);
      return dense(h, 'layers.6');
    }
    case 'small_cnn': {
      const f = pool(conv(pool(conv(x, 'features.0')), 'features.3'));
      return dense(drop(tf.relu(dense(flat(f), 'classifier.1')), 0), 'classifier.4');
    }
    case 'deeper_cnn': {
      let h = x;
      for (const [c, b] of [['features.0', 'features.1'], ['features.4', 'features.5'], ['features.8', 'features.9']] as const) {
        h = pool(bn(conv(h, c), b));
      }
      return dense(drop(tf.relu(dense(flat(h), 'classifier.1')), 0), 'classifier.4');
    }
  }
}
