import * as tf from '@tensorflow/tfjs-node';
import { predictedClass } from './ops/cross-entropy';

/**
 * Per-sample losses, logits and labels of a pass, kept on the device until the pass ends
 * and then reduced with a handful of kernels and one read to the host (per-batch
 * reductions, even the arg-max, would cost kernel calls per batch).
 */
export class PassTotals {
  private readonly parts: tf.Tensor[][] = [[], [], []];

  /** Takes ownership of a batch's per-sample losses, logits and labels. */
  add(losses: tf.Tensor, logits: tf.Tensor, labels: tf.Tensor): void {
    [losses, logits, labels].forEach((t, i) => this.parts[i]!.push(tf.keep(t)));
  }

  /** Sample-weighted mean loss and accuracy (first maximal logit = label). */
  async means(): Promise<{ loss: number; accuracy: number }> {
    const [losses, logits, labels] = this.parts;
    const count = losses!.reduce((n, t) => n + t.shape[0]!, 0);
    const sums = tf.tidy(() => {
      const correct = tf.equal(predictedClass(tf.concat(logits!)), tf.concat(labels!));
      return tf.stack([tf.sum(tf.concat(losses!)), tf.sum(tf.cast(correct, 'float32'))]);
    });
    try {
      const [loss, correct] = await sums.data();
      return { loss: loss! / count, accuracy: correct! / count };
    } finally {
      sums.dispose();
    }
  }

  dispose(): void {
    this.parts.forEach((list) => list.splice(0).forEach((t) => t.dispose()));
  }
}
