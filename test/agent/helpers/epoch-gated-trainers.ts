import type { Trainer, TrainerFactory } from '../../../layers/core/src';
import { formulaTrainerFactory } from '../../../layers/testing/src';

/**
 * Trainers whose epochs wait for permission: the n-th epoch the factory's trainers train
 * (counted over all of them) starts once allow(n) was called, so a test decides when a
 * running step moves on (e.g. only after a client saw the previous epoch). A wait longer
 * than fallbackMs goes on anyway and is counted in `forced`, so a broken client makes the
 * test fail on that count instead of hanging.
 */
export function epochGatedFactory(options: { base?: TrainerFactory; fallbackMs?: number } = {}) {
  const base = options.base ?? formulaTrainerFactory;
  const fallbackMs = options.fallbackMs ?? 5_000;
  let allowed = 0;
  let started = 0;
  let forced = 0;
  const waiting = new Set<() => void>();
  const waitFor = (n: number) =>
    new Promise<void>((resolve) => {
      if (n <= allowed) return resolve();
      const timer = setTimeout(() => {
        waiting.delete(check);
        forced += 1;
        resolve();
      }, fallbackMs);
      const check = () => {
        if (n > allowed) return;
        clearTimeout(timer);
        waiting.delete(check);
        resolve();
      };
      waiting.add(check);
    });
  const wrap = (inner: Trainer): Trainer => ({
    buildModel: (c) => inner.buildModel(c),
    applyConfig: (c, o) => inner.applyConfig(c, o),
    setAugmentation: (s) => inner.setAugmentation(s),
    async trainEpoch(lr) {
      started += 1;
      await waitFor(started);
      return inner.trainEpoch(lr);
    },
    evaluate: () => inner.evaluate(),
    keepBestWeights: () => inner.keepBestWeights(),
    saveCheckpoint: () => inner.saveCheckpoint(),
    dispose: () => inner.dispose(),
  });
  const factory: TrainerFactory = {
    create: async (spec) => wrap(await base.create(spec)),
    restore: async (spec, checkpoint) => wrap(await base.restore(spec, checkpoint)),
  };
  return {
    factory,
    /** Lets the first n epochs (over all trainers) train. */
    allow(n: number) {
      allowed = Math.max(allowed, n);
      for (const check of [...waiting]) check();
    },
    allowAll() {
      this.allow(Number.POSITIVE_INFINITY);
    },
    /** Epochs that started (or wait to). */
    get started() {
      return started;
    },
    get forced() {
      return forced;
    },
  };
}
