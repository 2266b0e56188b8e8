import type { Trainer } from '../../layers/core/src';
import { LazyTrainer } from '../../layers/episodes/src';

/** A fake real trainer that records what it was asked, and the parts that build it. */
function parts(options: { restoredFrom?: Uint8Array; withData?: boolean } = {}) {
  const log: string[] = [];
  const real: Trainer = {
    buildModel: async () => void log.push('buildModel'),
    applyConfig: async () => void log.push('applyConfig'),
    setAugmentation: async () => void log.push('setAugmentation'),
    trainEpoch: async () => {
      log.push('trainEpoch');
      return { loss: 1, accuracy: 0.5 } as never;
    },
    evaluate: async () => {
      log.push('evaluate');
      return { loss: 1, accuracy: 0.5 } as never;
    },
    keepBestWeights: async () => void log.push('keepBestWeights'),
    saveCheckpoint: async () => {
      log.push('saveCheckpoint');
      return new Uint8Array([9, 9]);
    },
    dispose: () => void log.push('dispose'),
  };
  return {
    log,
    parts: {
      build: async () => {
        log.push('build');
        return real;
      },
      ...(options.withData ? { beforeData: async () => void log.push('beforeData') } : {}),
      ...(options.restoredFrom ? { restoredFrom: options.restoredFrom } : {}),
    },
  };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('LazyTrainer', () => {
  it('runs beforeData once, after building and before the first pass over the data, and never for a call without data', async () => {
    const { log, parts: p } = parts({ withData: true });
    const trainer = new LazyTrainer(p);
    await trainer.buildModel({} as never);
    expect(log).toEqual(['build', 'buildModel']);
    await trainer.trainEpoch(0.1);
    await trainer.evaluate();
    await trainer.trainEpoch(0.1);
    expect(log).toEqual(['build', 'buildModel', 'beforeData', 'trainEpoch', 'evaluate', 'trainEpoch']);
  });

  it('answers saveCheckpoint with the checkpoint it would be restored from, without building', async () => {
    const restoredFrom = new Uint8Array([1, 2, 3]);
    const { log, parts: p } = parts({ restoredFrom });
    const trainer = new LazyTrainer(p);
    expect(await trainer.saveCheckpoint()).toBe(restoredFrom);
    expect(log).toEqual([]);
    expect(trainer.materialised).toBe(false);
  });

  it('answers saveCheckpoint from the real trainer once it was built', async () => {
    const { log, parts: p } = parts({ restoredFrom: new Uint8Array([1, 2, 3]) });
    const trainer = new LazyTrainer(p);
    await trainer.keepBestWeights();
    expect(await trainer.saveCheckpoint()).toEqual(new Uint8Array([9, 9]));
    expect(log).toEqual(['build', 'keepBestWeights', 'saveCheckpoint']);
    expect(trainer.materialised).toBe(true);
  });

  it('builds to answer saveCheckpoint when there is no checkpoint to restore from', async () => {
    const { log, parts: p } = parts();
    expect(await new LazyTrainer(p).saveCheckpoint()).toEqual(new Uint8Array([9, 9]));
    expect(log).toEqual(['build', 'saveCheckpoint']);
  });

  it('disposes the built trainer once, however often it is disposed, and refuses every later call without building', async () => {
    const { log, parts: p } = parts();
    const trainer = new LazyTrainer(p);
    await trainer.setAugmentation({} as never);
    trainer.dispose();
    trainer.dispose();
    await settled();
    expect(log).toEqual(['build', 'setAugmentation', 'dispose']);
    await expect(trainer.applyConfig({} as never, { keepOptimizerState: true })).rejects.toThrow('The trainer was disposed.');
    await expect(trainer.trainEpoch(0.1)).rejects.toThrow('The trainer was disposed.');
    expect(log).toEqual(['build', 'setAugmentation', 'dispose']);
  });

  it('disposing a trainer that was never built builds nothing and refuses later calls', async () => {
    const { log, parts: p } = parts();
    const trainer = new LazyTrainer(p);
    expect(() => trainer.dispose()).not.toThrow();
    await expect(trainer.buildModel({} as never)).rejects.toThrow('The trainer was disposed.');
    await settled();
    expect(log).toEqual([]);
  });
});
