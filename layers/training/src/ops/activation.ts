import * as tf from '@tensorflow/tfjs-node';
import { attr, runKernel } from './kernels';

export function relu(x: tf.Tensor): tf.Tensor {
  return runKernel('Relu', [attr.dtype('T')], [x]);
}

/** dy where the ReLU's output is positive, 0 elsewhere (PyTorch's threshold_backward). */
export function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return runKernel('ReluGrad', [attr.dtype('T')], [dy, y]);
}
