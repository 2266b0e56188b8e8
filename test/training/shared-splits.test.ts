import * as tf from '@tensorflow/tfjs-node';
import { SharedSplits } from '../../layers/training/src/data/shared-splits';
import { createTfjsTrainerFactory } from '../../layers/training/src';
import { TOY_TASKS, toyTaskData } from './toy-data';
import { config, specOf } from './trainer-helpers';

const TASK = TOY_TASKS[0];
const data = toyTaskData(TASK.dataset, 64, 32, TASK.seed);

describe('splits shared by the trainers of a TaskData (a restored trainer does not normalise them again)', () => {
  it('normalises a TaskData once for its trainers, and frees it with the last one when nothing is kept', () => {
    const splits = new SharedSplits();
    const before = tf.memory().numTensors;
    const a = splits.acquire(data);
    const b = splits.acquire(data);
    expect(b.splits).toBe(a.splits);
    expect(tf.memory().numTensors).toBe(before + 4);
    a.release();
    a.release(); // once only
    expect(splits.size).toBe(1);
    b.release();
    expect(splits.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(splits.acquire(toyTaskData(TASK.dataset, 64, 32, TASK.seed)).splits).not.toBe(a.splits);
  });

  it('keeps them keepMs after the last trainer, for the next one (a step restores a new trainer)', async () => {
    const splits = new SharedSplits(50);
    const before = tf.memory().numTensors;
    const first = splits.acquire(data);
    first.release();
    const next = splits.acquire(data);
    expect(next.splits).toBe(first.splits);
    next.release();
    expect(tf.memory().numTensors).toBe(before + 4);
    await new Promise((r) => setTimeout(r, 120));
    expect(splits.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a restored trainer evaluates on the splits of the trainer it was saved from, with the same result', async () => {
    const factory = createTfjsTrainerFactory({ loadTaskData: async () => data, keepSplitsMs: 60_000 });
    const trainer = await factory.create(specOf(TASK));
    await trainer.buildModel(config({ batch_size: 32 }));
    await trainer.trainEpoch(0.01);
    const want = await trainer.evaluate();
    const blob = await trainer.saveCheckpoint();
    trainer.dispose();
    const tensors = tf.memory().numTensors;
    const restored = await factory.restore(specOf(TASK), blob);
    const got = await restored.evaluate();
    restored.dispose();
    expect(got.loss).toBe(want.loss);
    expect(got.accuracy).toBe(want.accuracy);
    expect(tf.memory().numTensors).toBe(tensors); // no second copy of the splits
  });
});
