import { EpochShuffler } from '../../layers/datasets/src/epoch-shuffler';
import shuffleOrder from '../fixtures/shuffle-order.json';

interface TaskEpochs {
  n: number;
  seed: number;
  epochs: { head: number[]; sum_first_1000: number }[];
}

const tasks = Object.entries((shuffleOrder as { epochs: Record<string, TaskEpochs> }).epochs);

describe('EpochShuffler against PyTorch DataLoader (test/fixtures/shuffle-order.json)', () => {
  it.each(tasks)('%s: first three epochs', (_task, expected) => {
    const shuffler = EpochShuffler.seeded(expected.seed, expected.n);
    for (const epoch of expected.epochs) {
      const order = shuffler.nextEpochOrder();
      expect(order.length).toBe(expected.n);
      expect(Array.from(order.subarray(0, epoch.head.length))).toEqual(epoch.head);
      expect(order.subarray(0, 1000).reduce((a, b) => a + b, 0)).toBe(epoch.sum_first_1000);
    }
    expect(shuffler.epochsDrawn).toBe(expected.epochs.length);
  });
});

describe('EpochShuffler state', () => {
  it('continues exactly after a save and restore (a checkpoint between epochs)', () => {
    const straight = EpochShuffler.seeded(456, 8000);
    const orders = [0, 1, 2, 3].map(() => Array.from(straight.nextEpochOrder()));

    const first = EpochShuffler.seeded(456, 8000);
    first.nextEpochOrder();
    first.nextEpochOrder();
    const state = first.saveState();
    const resumed = EpochShuffler.fromState(state);
    expect(resumed.trainSize).toBe(8000);
    expect(resumed.epochsDrawn).toBe(2);
    expect(Array.from(resumed.nextEpochOrder())).toEqual(orders[2]);
    expect(Array.from(resumed.nextEpochOrder())).toEqual(orders[3]);
  });

  it('state is bytes that survive a copy (as in a stored checkpoint)', () => {
    const shuffler = EpochShuffler.seeded(42, 100);
    shuffler.nextEpochOrder();
    const copy = Uint8Array.from(Buffer.from(Buffer.from(shuffler.saveState()).toString('base64'), 'base64'));
    expect(Array.from(EpochShuffler.fromState(copy).nextEpochOrder())).toEqual(Array.from(shuffler.nextEpochOrder()));
  });

  it('refuses a state that is not one', () => {
    const state = EpochShuffler.seeded(1, 10).saveState();
    expect(() => EpochShuffler.fromState(state.subarray(1))).toThrow(/must be 2512 bytes, got 2511/);
    const wrongMagic = Uint8Array.from(state);
    wrongMagic[0] ^= 0xff;
    expect(() => EpochShuffler.fromState(wrongMagic)).toThrow(/wrong magic/);
    expect(() => EpochShuffler.seeded(1, -3)).toThrow(RangeError);
  });
});
