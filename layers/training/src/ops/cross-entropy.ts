import * as tf from '@tensorflow/tfjs-node';
import { attr, runKernelOutputs } from './kernels';

export interface CrossEntropy {
  /** Per-sample loss, shape [N]. */
  losses: tf.Tensor;
  /** Gradient of the batch-mean loss with respect to the logits. */
  dLogits: tf.Tensor;
}

/** Softmax cross-entropy with integer labels, averaged over the batch (nn.CrossEntropyLoss). */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): CrossEntropy {
  const [losses, perSampleGrad] = runKernelOutputs(
    'SparseSoftmaxCrossEntropyWithLogits', [attr.dtype('T'), attr.dtype('Tlabels', 'int32')], [logits, labels], 2);
  return { losses, dLogits: tf.div(perSampleGrad, logits.shape[0]!) };
}

/** The predicted class: the first maximal logit (PyTorch's out.max(1)[1]). */
export function predictedClass(logits: tf.Tensor): tf.Tensor {
  return tf.argMax(logits, 1);
}
