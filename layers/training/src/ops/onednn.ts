import { attr, KernelAttr } from './kernels';

/**
 * The TensorFlow library carries oneDNN kernels that eager mode does not pick by itself
 * (it rewrites convolutions and batch norm to oneDNN, but not pooling and not conv + bias):
 * they are registered under this kernel label. They compute exactly what the plain
 * TensorFlow kernels compute (see kernel-probe.ts), only faster.
 */
export function oneDnnLabel(): KernelAttr {
  return attr.string('_kernel', 'MklNameChangeOp');
}
