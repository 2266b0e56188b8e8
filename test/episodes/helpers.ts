import {
  createEpisode,
  executeStep,
  type EpisodeRecord,
  type StepResult,
  type ToolCall,
  type Trainer,
  type TrainerFactory,
} from '../../layers/core/src';
import { FormulaTrainer, formulaTrainerFactory } from '../../layers/testing/src';

export const configure = (args: Record<string, unknown> = {}): ToolCall => ({ tool: 'configure_training', arguments: args });
export const run = (num_epochs: number): ToolCall => ({ tool: 'run_epochs', arguments: { num_epochs } });
export const status: ToolCall = { tool: 'get_training_status' };
export const submitCall: ToolCall = { tool: 'submit_model' };

/** Counts what the service asks of its trainers, and can slow down or break training. */
export interface InstrumentedFactory extends TrainerFactory {
  counts: { create: number; restore: number; trainEpoch: number; dispose: number; live: number };
  /** Delay of every trainEpoch call (ms), so concurrent steps really overlap. */
  delayMs: number;
  /** Throw in the Nth trainEpoch call from now on (1-based), once. */
  failAtEpochCall(n: number): void;
}

export function instrumentedFactory(base: TrainerFactory = formulaTrainerFactory): InstrumentedFactory {
  let failAt: number | null = null;
  let sinceArmed = 0;
  const factory: InstrumentedFactory = {
    counts: { create: 0, restore: 0, trainEpoch: 0, dispose: 0, live: 0 },
    delayMs: 0,
    failAtEpochCall(n) {
      failAt = n;
      sinceArmed = 0;
    },
    async create(spec) {
      factory.counts.create++;
      return wrap(await base.create(spec));
    },
    async restore(spec, checkpoint) {
      factory.counts.restore++;
      return wrap(await base.restore(spec, checkpoint));
    },
  };
  function wrap(inner: Trainer): Trainer {
    factory.counts.live++;
    let disposed = false;
    return {
      buildModel: (c) => inner.buildModel(c),
      applyConfig: (c, o) => inner.applyConfig(c, o),
      setAugmentation: (s) => inner.setAugmentation(s),
      async trainEpoch(lr) {
        factory.counts.trainEpoch++;
        if (failAt !== null && ++sinceArmed === failAt) {
          failAt = null;
          throw new Error('simulated trainer fault (out of memory)');
        }
        if (factory.delayMs > 0) await new Promise((r) => setTimeout(r, factory.delayMs));
        return inner.trainEpoch(lr);
      },
      evaluate: () => inner.evaluate(),
      keepBestWeights: () => inner.keepBestWeights(),
      saveCheckpoint: () => inner.saveCheckpoint(),
      dispose() {
        if (!disposed) {
          disposed = true;
          factory.counts.dispose++;
          factory.counts.live--;
        }
        inner.dispose();
      },
    };
  }
  return factory;
}

/**
 * A formula trainer whose epochs wait while the gate is shut (it starts shut): a step is
 * provably still training until the test opens it.
 */
export function gatedFactory(base: TrainerFactory = formulaTrainerFactory) {
  let open!: () => void;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const wrap = (inner: Trainer): Trainer => ({
    buildModel: (c) => inner.buildModel(c),
    applyConfig: (c, o) => inner.applyConfig(c, o),
    setAugmentation: (s) => inner.setAugmentation(s),
    trainEpoch: async (lr) => {
      await gate;
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
    open: () => open(),
    close: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
  };
}

/** The same calls through the pure core, in one process with one trainer: the reference. */
export async function playInMemory(taskId: string, calls: ToolCall[], seed?: number) {
  let record: EpisodeRecord = createEpisode(taskId, seed);
  const trainer = FormulaTrainer.fresh({ taskId, seed: record.seed });
  const results: StepResult[] = [];
  for (const call of calls) {
    const result = await executeStep(record, call, trainer);
    results.push(result);
    record = result.record;
  }
  return { record, results, checkpoint: await trainer.saveCheckpoint() };
}
