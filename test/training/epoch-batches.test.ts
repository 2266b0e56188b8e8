import * as tf from '@tensorflow/tfjs-node';
import { EpochBatches } from '../../layers/training/src/data/epoch-batches';

describe('EpochBatches', () => {
  const data = () => ({
    images: tf.tensor4d(Array.from({ length: 5 * 2 }, (_, i) => i), [5, 1, 2, 1]),
    labels: tf.tensor1d([0, 1, 2, 3, 4], 'int32'),
    count: 5,
  });

  it('hands out the epoch order in batches, the last one partial', () => {
    const d = data();
    const before = tf.memory().numTensors;
    const batches = new EpochBatches(d, Int32Array.of(3, 0, 4, 1, 2), 2);
    expect(batches.count).toBe(3);
    const taken = [0, 1, 2].map(() => batches.take());
    expect(taken.map((b) => b.y.arraySync())).toEqual([[3, 0], [4, 1], [2]]);
    expect(taken[0]!.x.arraySync()).toEqual([[[[6], [7]]], [[[0], [1]]]]);
    expect(taken[2]!.x.shape).toEqual([1, 1, 2, 1]);
    expect(() => batches.take()).toThrow('all 3 batches of this epoch were taken');
    taken.forEach((b) => [b.x, b.y].forEach((t) => t.dispose()));
    batches.dispose();
    expect(tf.memory().numTensors).toBe(before);
    [d.images, d.labels].forEach((t) => t.dispose());
  });

  it('frees the batches nobody took', () => {
    const d = data();
    const before = tf.memory().numTensors;
    const batches = new EpochBatches(d, Int32Array.of(0, 1, 2, 3, 4), 4);
    const first = batches.take();
    batches.dispose();
    [first.x, first.y].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
    [d.images, d.labels].forEach((t) => t.dispose());
  });
});
