import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';
import { attr, lazyAttrs, runKernel, runKernelOutputs } from './kernels';

const readAttrs = lazyAttrs(() => [attr.dtype('dtype')]);
const assignAttrs = lazyAttrs(() => [attr.dtype('dtype'), attr.bool('validate_shape', true)]);

/**
 * TensorFlow's name for an anonymous resource: the variable lives as long as a handle to it
 * (TensorFlow ref-counts it), so disposing the handle frees it.
 */
const ANONYMOUS_NAME = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/**
 * A float32 TensorFlow resource variable, updated in place by TensorFlow's fused optimizer
 * kernels. Reads alias its buffer; TensorFlow copies the buffer before an in-place update
 * while such a read is alive (copy-on-write), so a read never changes under its holder.
 */
export class ResourceVariable {
  private constructor(private readonly handle: tf.Tensor, readonly shape: readonly number[]) {}

  static create(initial: tf.Tensor): ResourceVariable {
    const shapeAttr = { name: 'shape', type: (tf.backend() as NodeJSKernelBackend).binding.TF_ATTR_SHAPE, value: initial.shape };
    const handle = tf.keep(runKernel('VarHandleOp', [
      attr.dtype('dtype'), shapeAttr, attr.string('container', ''), attr.string('shared_name', ANONYMOUS_NAME),
    ], []));
    const variable = new ResourceVariable(handle, [...initial.shape]);
    variable.assign(initial);
    return variable;
  }

  static fromValues(values: Float32Array, shape: readonly number[]): ResourceVariable {
    const initial = tf.tensor(values, shape as number[]);
    try {
      return ResourceVariable.create(initial);
    } finally {
      initial.dispose();
    }
  }

  /** The resource handle, for the kernels that update the variable. */
  get resource(): tf.Tensor {
    return this.handle;
  }

  read(): tf.Tensor {
    return runKernel('ReadVariableOp', readAttrs(), [this.handle]);
  }

  assign(value: tf.Tensor): void {
    runKernelOutputs('AssignVariableOp', assignAttrs(), [this.handle, value], 0);
  }

  dispose(): void {
    this.handle.dispose();
  }
}
