import { lazyTrainerFactory } from '../../layers/cloud/src/lazy-trainer';
import type { Trainer, TrainerFactory } from '../../layers/core/src';
import { trainingConfigSchema } from '../../layers/core/src';
import { formulaTrainerFactory } from '../../layers/testing/src';

/** The training handler's lazy trainers: built only when a step uses them, identical to the real ones when it does. */

function counting(base: TrainerFactory = formulaTrainerFactory) {
  const counts = { load: 0, create: 0, restore: 0, dispose: 0, beforeData: 0 };
  const factory: TrainerFactory = {
    async create(spec) {
      counts.create++;
      return track(await base.create(spec));
    },
    async restore(spec, checkpoint) {
      counts.restore++;
      return track(await base.restore(spec, checkpoint));
    },
  };
  const track = (t: Trainer): Trainer => {
    const dispose = t.dispose.bind(t);
    t.dispose = () => {
      counts.dispose++;
      dispose();
    };
    return t;
  };
  const lazy = lazyTrainerFactory({
    load: async () => {
      counts.load++;
      return factory;
    },
    beforeData: async () => {
      counts.beforeData++;
    },
  });
  return { lazy, counts };
}

const spec = { taskId: 'easy_mnist', seed: 42 };
const config = trainingConfigSchema.parse({});

describe('lazyTrainerFactory', () => {
  it('never loads the real factory for a restored trainer that is only saved and disposed (status, lr, submit)', async () => {
    const real = await formulaTrainerFactory.create(spec);
    await real.buildModel(config);
    await real.trainEpoch(0.001);
    const checkpoint = await real.saveCheckpoint();
    const { lazy, counts } = counting();
    const trainer = await lazy.restore(spec, checkpoint);
    expect(await trainer.saveCheckpoint()).toBe(checkpoint); // the same bytes: the service uploads nothing
    trainer.dispose();
    expect(counts).toEqual({ load: 0, create: 0, restore: 0, dispose: 0, beforeData: 0 });
    expect(lazy.materialised).toBe(0);
  });

  it('restores the real trainer on first use, syncs the data once before the first pass, and behaves exactly like it', async () => {
    const reference = await formulaTrainerFactory.create(spec);
    await reference.buildModel(config);
    const checkpoint = await reference.saveCheckpoint();
    const { lazy, counts } = counting();
    const trainer = await lazy.restore(spec, checkpoint);
    const expected = await (await formulaTrainerFactory.restore(spec, checkpoint)).trainEpoch(0.001);
    expect(await trainer.trainEpoch(0.001)).toEqual(expected);
    await trainer.evaluate();
    await trainer.trainEpoch(0.001);
    expect(counts).toMatchObject({ load: 1, restore: 1, beforeData: 1 });
    const saved = await trainer.saveCheckpoint();
    expect(saved).not.toBe(checkpoint);
    trainer.dispose();
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts.dispose).toBe(1);
    expect(lazy.materialised).toBe(1);
  });

  it('builds a fresh trainer for a new episode when its checkpoint is needed', async () => {
    const { lazy, counts } = counting();
    const trainer = await lazy.create(spec);
    const bytes = await trainer.saveCheckpoint();
    expect(bytes).toEqual(await (await formulaTrainerFactory.create(spec)).saveCheckpoint());
    expect(counts).toMatchObject({ load: 1, create: 1 });
  });

  it('loads the real factory once for all trainers, and again after a failed load', async () => {
    let attempts = 0;
    const lazy = lazyTrainerFactory({
      load: async () => {
        attempts++;
        if (attempts === 1) throw new Error('image without tfjs');
        return formulaTrainerFactory;
      },
    });
    await expect((await lazy.create(spec)).buildModel(config)).rejects.toThrow('image without tfjs');
    await (await lazy.create(spec)).buildModel(config);
    await (await lazy.create(spec)).buildModel(config);
    expect(attempts).toBe(2);
  });
});
