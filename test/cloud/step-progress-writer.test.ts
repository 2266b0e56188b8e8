import { StepProgressWriter } from '../../layers/cloud/src/step-progress-writer';
import type { EpochProgress, StepProgress } from '../../layers/core/src';

const epoch = (index: number): EpochProgress => ({
  epoch: index,
  index,
  total: 5,
  learning_rate: 0.001,
  train_loss: 1 / index,
  train_accuracy: 0.5,
  val_loss: 1,
  val_accuracy: 0.5,
  seconds: 0.1,
  diverged: false,
});

/** A write that resolves when the test says so. */
function heldWrites() {
  const written: StepProgress[] = [];
  const release: (() => void)[] = [];
  const write = (progress: StepProgress) =>
    new Promise<void>((resolve) => {
      written.push(progress);
      release.push(resolve);
    });
  return { written, write, releaseNext: () => release.shift()?.() };
}

describe('StepProgressWriter (the training Lambda writing a running step\'s epochs)', () => {
  it('keeps one write in flight and sends the epochs that finished meanwhile together in the next', async () => {
    const held = heldWrites();
    const writer = new StepProgressWriter(held.write);
    writer.epoch(epoch(1));
    writer.epoch(epoch(2));
    writer.epoch(epoch(3));
    expect(held.written.map((p) => p.epochs_done)).toEqual([1]);
    held.releaseNext();
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.written.map((p) => p.epochs_done)).toEqual([1, 3]);
    expect(held.written[1]!.epochs.map((e) => e.index)).toEqual([1, 2, 3]);
    const flushed = writer.flush();
    held.releaseNext();
    await flushed;
    writer.epoch(epoch(4));
    expect(held.written.map((p) => p.epochs_done)).toEqual([1, 3, 4]);
    held.releaseNext();
    await writer.flush();
  });

  it('reports a failed write and goes on with the next epoch', async () => {
    const errors: unknown[] = [];
    const sent: number[] = [];
    const writer = new StepProgressWriter(async (p) => {
      sent.push(p.epochs_done);
      if (p.epochs_done === 1) throw new Error('throttled');
    }, (error) => errors.push(error));
    writer.epoch(epoch(1));
    await writer.flush();
    writer.epoch(epoch(2));
    await writer.flush();
    expect(sent).toEqual([1, 2]);
    expect(errors).toEqual([new Error('throttled')]);
  });
});
