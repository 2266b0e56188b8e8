import { EventLoopYield } from '../../layers/training/src/event-loop-yield';
import { config, specOf, toyFactory } from './trainer-helpers';
import { TOY_TASKS } from './toy-data';

/** Counts event-loop turns (setImmediate callbacks) while `work` runs. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    await work();
  } finally {
    running = false;
  }
  return turns;
}

describe('a training pass lets the event loop run (the lease heartbeat and other requests need it)', () => {
  const mlp = TOY_TASKS.find((t) => t.model === 'simple_mlp')!;

  it('yields once its time slice is used, not before', async () => {
    const eager = new EventLoopYield(0);
    expect(await turnsDuring(async () => {
      for (let i = 0; i < 5; i++) await eager.maybe();
    })).toBeGreaterThanOrEqual(4);
    const patient = new EventLoopYield(60_000);
    expect(await turnsDuring(async () => {
      for (let i = 0; i < 5; i++) await patient.maybe();
    })).toBe(0);
  });

  it('trains and evaluates with a turn of the event loop between batches', async () => {
    // 384 training samples in batches of 32 = 12 batches; 256 validation samples in batches of 64 = 4.
    const { factory } = toyFactory(384, 256, { yieldEveryMs: 0 });
    const trainer = await factory.create(specOf(mlp));
    try {
      await trainer.buildModel(config({ batch_size: 32 }));
      expect(await turnsDuring(() => trainer.trainEpoch(0.001))).toBeGreaterThanOrEqual(11);
      expect(await turnsDuring(() => trainer.evaluate())).toBeGreaterThanOrEqual(3);
    } finally {
      trainer.dispose();
    }
  });

  it('gives the same weights whether it yields or not', async () => {
    const run = async (yieldEveryMs: number) => {
      const { factory } = toyFactory(384, 256, { yieldEveryMs });
      const trainer = await factory.create(specOf(mlp));
      try {
        await trainer.buildModel(config({ batch_size: 32 }));
        await trainer.trainEpoch(0.001);
        return Buffer.from(await trainer.saveCheckpoint()).toString('base64');
      } finally {
        trainer.dispose();
      }
    };
    expect(await run(0)).toBe(await run(60_000));
  });
});
