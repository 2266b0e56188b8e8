import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';
import type { TFEOpAttr } from '@tensorflow/tfjs-node/dist/tfjs_binding';

/**
 * Direct calls of TensorFlow kernels by name through tfjs-node's backend.
 * This is an internal tfjs-node API (pinned at 4.22.0): it runs any kernel of the
 * TensorFlow library, including the ones tfjs does not wrap (gradient kernels, fused
 * batch norm, oneDNN pooling). Tensors it returns are tracked by tf.tidy like any other;
 * they are not recorded on tfjs's gradient tape, which this layer does not use.
 */
export type KernelAttr = TFEOpAttr;

let tensorflowBackend: NodeJSKernelBackend | null = null;

/**
 * The backend, looked up once: a small model's step makes thousands of kernel calls per
 * epoch, and tfjs's backend lookup through the module namespace cost ~1 µs each.
 */
function nodeBackend(): NodeJSKernelBackend {
  if (tensorflowBackend) return tensorflowBackend;
  if (tf.getBackend() !== 'tensorflow') {
    throw new Error(`the training engine needs the tfjs-node 'tensorflow' backend, not '${tf.getBackend()}'`);
  }
  tensorflowBackend = tf.backend() as NodeJSKernelBackend;
  return tensorflowBackend;
}

export const attr = {
  dtype(name: string, dtype: 'float32' | 'int32' = 'float32'): KernelAttr {
    const binding = nodeBackend().binding;
    return { name, type: binding.TF_ATTR_TYPE, value: dtype === 'float32' ? binding.TF_FLOAT : binding.TF_INT32 };
  },
  float(name: string, value: number): KernelAttr {
    return { name, type: nodeBackend().binding.TF_ATTR_FLOAT, value };
  },
  int(name: string, value: number): KernelAttr {
    return { name, type: nodeBackend().binding.TF_ATTR_INT, value };
  },
  ints(name: string, value: number[]): KernelAttr {
    return { name, type: nodeBackend().binding.TF_ATTR_INT, value };
  },
  bool(name: string, value: boolean): KernelAttr {
    return { name, type: nodeBackend().binding.TF_ATTR_BOOL, value };
  },
  string(name: string, value: string): KernelAttr {
    return { name, type: nodeBackend().binding.TF_ATTR_STRING, value };
  },
};

/**
 * An attribute list built once, on first use (the binding's constants exist only once
 * tfjs-node has loaded): the hot kernels reuse it instead of building it per call.
 */
export function lazyAttrs(build: () => KernelAttr[]): () => KernelAttr[] {
  let built: KernelAttr[] | null = null;
  return () => (built ??= build());
}

export function runKernel(name: string, attrs: KernelAttr[], inputs: tf.Tensor[]): tf.Tensor {
  return nodeBackend().executeSingleOutput(name, attrs, inputs);
}

export function runKernelOutputs(name: string, attrs: KernelAttr[], inputs: tf.Tensor[], outputs: number): tf.Tensor[] {
  return nodeBackend().executeMultipleOutputs(name, attrs, inputs, outputs);
}
