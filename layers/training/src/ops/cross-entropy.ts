import * as tf from '@tensorflow/tfjs-node';
import { attr, lazyAttrs, runKernel, runKernelOutputs } from './kernels';

export interface CrossEntropy {
  /** Per-sample loss, shape [N]. */
  losses: tf.Tensor;
  /** Gradient of the batch-mean loss with respect to the logits. */
  dLogits: tf.Tensor;
}

const lossAttrs = lazyAttrs(() => [attr.dtype('T'), attr.dtype('Tlabels', 'int32')]);
const divideAttrs = lazyAttrs(() => [attr.dtype('T')]);

/**
 * The batch sizes as float32 scalars, made once each: tf.div(t, n) would upload a new
 * scalar every batch. A process sees a handful of sizes (the configured one and the
 * last partial batch of each split).
 */
const batchSizes = new Map<number, tf.Tensor>();

function batchSizeScalar(n: number): tf.Tensor {
  let s = batchSizes.get(n);
  if (!s) {
    s = tf.keep(tf.scalar(n, 'float32'));
    batchSizes.set(n, s);
  }
  return s;
}

/** Softmax cross-entropy with integer labels, averaged over the batch (nn.CrossEntropyLoss). */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): CrossEntropy {
  const [losses, perSampleGrad] = runKernelOutputs('SparseSoftmaxCrossEntropyWithLogits', lossAttrs(), [logits, labels], 2);
  return { losses, dLogits: runKernel('RealDiv', divideAttrs(), [perSampleGrad, batchSizeScalar(logits.shape[0]!)]) };
}

/** The predicted class: the first maximal logit (PyTorch's out.max(1)[1]). */
export function predictedClass(logits: tf.Tensor): tf.Tensor {
  return tf.argMax(logits, 1);
}
