import * as tf from '@tensorflow/tfjs-node';
import { attr, lazyAttrs, runKernel, runKernelOutputs } from './kernels';
import { oneDnnLabel } from './onednn';

/**
 * 2×2 max pooling, stride 2, NHWC; the first maximum of a window wins, as in PyTorch.
 * With `oneDnn`, the labelled oneDNN kernels: TensorFlow's Eigen `MaxPoolGrad` costs ~40×
 * oneDNN's here.
 */
export interface PoolOutput {
  y: tf.Tensor;
  /** What the oneDNN gradient kernel needs besides x, y and dy. */
  workspace: tf.Tensor | null;
}

const poolAttrs = lazyAttrs(() => [
  attr.dtype('T'),
  attr.ints('ksize', [1, 2, 2, 1]),
  attr.ints('strides', [1, 2, 2, 1]),
  attr.string('padding', 'VALID'),
  attr.string('data_format', 'NHWC'),
]);

const oneDnnAttrs = lazyAttrs(() => [...poolAttrs(), attr.bool('workspace_enabled', false), oneDnnLabel()]);

export function maxPool2(x: tf.Tensor, oneDnn: boolean): PoolOutput {
  if (!oneDnn) return { y: runKernel('MaxPool', poolAttrs(), [x]), workspace: null };
  const [y, workspace] = runKernelOutputs('_MklNativeMaxPool', oneDnnAttrs(), [x], 2);
  return { y: y!, workspace: workspace! };
}

export function maxPool2Grad(x: tf.Tensor, pooled: PoolOutput, dy: tf.Tensor): tf.Tensor {
  if (!pooled.workspace) return runKernel('MaxPoolGrad', poolAttrs(), [x, pooled.y, dy]);
  return runKernel('_MklNativeMaxPoolGrad', oneDnnAttrs(), [x, pooled.y, dy, pooled.workspace]);
}
