import * as tf from '@tensorflow/tfjs-node';
import { attr, lazyAttrs, runKernel } from './kernels';

const floatAttrs = lazyAttrs(() => [attr.dtype('T')]);

export function relu(x: tf.Tensor): tf.Tensor {
  return runKernel('Relu', floatAttrs(), [x]);
}

/** dy where the ReLU's output is positive, 0 elsewhere (PyTorch's threshold_backward). */
export function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return runKernel('ReluGrad', floatAttrs(), [dy, y]);
}
