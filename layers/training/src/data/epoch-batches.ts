import * as tf from '@tensorflow/tfjs-node';
import type { SplitTensors } from './split-tensors';

export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/**
 * An epoch's batches in its shuffled order, the last possibly partial: one gather of the
 * whole split and one split into batches, instead of an index upload and two gathers per
 * batch. Each batch is handed over once; `dispose` frees whatever was not taken.
 */
export class EpochBatches {
  private readonly xs: tf.Tensor[];
  private readonly ys: tf.Tensor[];
  private next = 0;

  constructor(data: SplitTensors, order: Int32Array, batchSize: number) {
    const sizes: number[] = [];
    for (let start = 0; start < order.length; start += batchSize) sizes.push(Math.min(batchSize, order.length - start));
    [this.xs, this.ys] = tf.tidy(() => {
      const idx = tf.tensor1d(order, 'int32');
      const parts = [data.images, data.labels].map((t) => tf.split(tf.gather(t, idx), sizes));
      return [parts[0]!.map((t) => tf.keep(t)), parts[1]!.map((t) => tf.keep(t))];
    });
  }

  get count(): number {
    return this.xs.length;
  }

  /** The next batch; the caller owns its tensors. */
  take(): Batch {
    if (this.next >= this.xs.length) throw new Error(`all ${this.xs.length} batches of this epoch were taken`);
    const i = this.next++;
    return { x: this.xs[i]!, y: this.ys[i]! };
  }

  dispose(): void {
    for (let i = this.next; i < this.xs.length; i++) {
      this.xs[i]!.dispose();
      this.ys[i]!.dispose();
    }
    this.next = this.xs.length;
  }
}
