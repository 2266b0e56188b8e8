import type { Trainer, TrainerFactory } from '../../layers/core/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { takingTurns } from '../../layers/runtime/src/trainer-turns';
import { config } from '../training/trainer-helpers';

/** The formula trainer with every epoch spread over a few event-loop turns, logging when each starts and ends. */
function loggingFactory(log: string[]): TrainerFactory {
  const wrap = (trainer: Trainer, name: string): Trainer => ({
    buildModel: (c) => trainer.buildModel(c),
    applyConfig: (c, o) => trainer.applyConfig(c, o),
    setAugmentation: (a) => trainer.setAugmentation(a),
    evaluate: () => trainer.evaluate(),
    keepBestWeights: () => trainer.keepBestWeights(),
    saveCheckpoint: () => trainer.saveCheckpoint(),
    dispose: () => trainer.dispose(),
    async trainEpoch(lr: number) {
      log.push(`${name} start`);
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      if (lr < 0) {
        log.push(`${name} fails`);
        throw new RangeError('negative learning rate');
      }
      const metrics = await trainer.trainEpoch(lr);
      log.push(`${name} end`);
      return metrics;
    },
  });
  return {
    create: async (spec) => wrap(await formulaTrainerFactory.create(spec), `seed${spec.seed}`),
    restore: async (spec, checkpoint) => wrap(await formulaTrainerFactory.restore(spec, checkpoint), `seed${spec.seed}`),
  };
}

describe('takingTurns', () => {
  it('runs concurrent trainers\' calls one at a time, in the order asked; a failed call does not block the next', async () => {
    const log: string[] = [];
    const factory = takingTurns(loggingFactory(log));
    const [a, b] = await Promise.all([factory.create({ taskId: 'easy_mnist', seed: 1 }), factory.create({ taskId: 'easy_mnist', seed: 2 })]);
    await Promise.all([a.buildModel(config()), b.buildModel(config())]);
    const epochs = async (t: Trainer, lrs: number[]) => {
      const outcomes: string[] = [];
      for (const lr of lrs) outcomes.push(await t.trainEpoch(lr).then(() => 'ok', (e: Error) => e.name));
      return outcomes;
    };
    const results = await Promise.all([epochs(a, [0.01, -1, 0.01]), epochs(b, [0.01, 0.01, 0.01])]);
    expect(results).toEqual([['ok', 'RangeError', 'ok'], ['ok', 'ok', 'ok']]);
    expect(log).toEqual([
      'seed1 start', 'seed1 end', 'seed2 start', 'seed2 end',
      'seed1 start', 'seed1 fails', 'seed2 start', 'seed2 end',
      'seed1 start', 'seed1 end', 'seed2 start', 'seed2 end',
    ]);
  });

  it('interleaves without turns (what the wrapper prevents)', async () => {
    const log: string[] = [];
    const factory = loggingFactory(log);
    const [a, b] = await Promise.all([factory.create({ taskId: 'easy_mnist', seed: 1 }), factory.create({ taskId: 'easy_mnist', seed: 2 })]);
    await Promise.all([a.buildModel(config()), b.buildModel(config())]);
    await Promise.all([a.trainEpoch(0.01).catch(() => undefined), b.trainEpoch(0.01).catch(() => undefined)]);
    expect(log.slice(0, 2)).toEqual(['seed1 start', 'seed2 start']);
  });
});
