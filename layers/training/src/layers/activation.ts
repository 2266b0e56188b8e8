import * as tf from '@tensorflow/tfjs-node';
import { relu, reluGrad } from '../ops/activation';
import { maxPool2, maxPool2Grad } from '../ops/max-pool';
import { Layer } from './layer';

export function reluLayer(): Layer {
  return {
    params: [],
    buffers: [],
    forward(x) {
      const y = relu(x);
      return { y, backward: (dy) => reluGrad(dy, y) };
    },
  };
}

/** nn.MaxPool2d(2). */
export function maxPoolLayer(): Layer {
  return {
    params: [],
    buffers: [],
    forward(x, ctx) {
      const pooled = maxPool2(x, ctx.kernels.oneDnn);
      return { y: pooled.y, backward: (dy) => maxPool2Grad(x, pooled, dy) };
    },
  };
}

/**
 * PyTorch's ReLU → MaxPool2d(2), computed as MaxPool → ReLU: both give the same values
 * and the same gradients (max commutes with the monotone ReLU, first maxima included; a
 * window whose maximum is ≤ 0 passes no gradient either way), and the ReLU then touches
 * 4× fewer values.
 */
export function reluThenPool(): Layer[] {
  return [maxPoolLayer(), reluLayer()];
}

/** nn.Flatten() of NHWC activations: features in (h, w, c) order. */
export function flattenLayer(): Layer {
  return {
    params: [],
    buffers: [],
    forward(x) {
      const y = tf.reshape(x, [x.shape[0]!, -1]);
      return { y, backward: (dy) => tf.reshape(dy, x.shape) };
    },
  };
}
