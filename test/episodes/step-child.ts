/**
 * Child process of killed-step.test.ts: one step through a StoredEpisodeService on the
 * parent's dynalite + s3rver, with a slow formula trainer that prints `epoch <n>` after
 * every trainEpoch call, so the parent can kill it mid-training.
 * Usage: node --require tsx/cjs step-child.ts, with STEP_CHILD (JSON) in the environment:
 *   { config: StorageConfig, tenant, episodeId, requestId, call, epochDelayMs, leaseMs }
 */
import type { ToolCall, Trainer, TrainerFactory } from '../../layers/core/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { createStorage, type StorageConfig } from '../../layers/storage/src';

export interface StepChildInput {
  config: StorageConfig;
  tenant: string;
  episodeId: string;
  requestId: string;
  call: ToolCall;
  epochDelayMs: number;
  /** The step's lease (StoredEpisodeServiceOptions.leaseMs). */
  leaseMs: number;
}

function slowFactory(delayMs: number): TrainerFactory {
  let epochs = 0;
  const wrap = (inner: Trainer): Trainer => ({
    buildModel: (c) => inner.buildModel(c),
    applyConfig: (c, o) => inner.applyConfig(c, o),
    setAugmentation: (s) => inner.setAugmentation(s),
    async trainEpoch(lr) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const metrics = await inner.trainEpoch(lr);
      process.stdout.write(`epoch ${++epochs}\n`);
      return metrics;
    },
    evaluate: () => inner.evaluate(),
    keepBestWeights: () => inner.keepBestWeights(),
    saveCheckpoint: () => inner.saveCheckpoint(),
    dispose: () => inner.dispose(),
  });
  return {
    create: async (spec) => wrap(await formulaTrainerFactory.create(spec)),
    restore: async (spec, checkpoint) => wrap(await formulaTrainerFactory.restore(spec, checkpoint)),
  };
}

async function main(): Promise<void> {
  const input = JSON.parse(process.env.STEP_CHILD ?? '') as StepChildInput;
  const storage = createStorage(input.config);
  try {
    const service = new StoredEpisodeService({
      episodes: storage.episodes,
      checkpoints: storage.checkpoints,
      trainers: slowFactory(input.epochDelayMs),
      // The lease, renewed while this process lives; killed, it lapses within leaseMs (a test-sized default).
      leaseMs: input.leaseMs,
    });
    process.stdout.write('started\n');
    const view = await service.step({ tenant: input.tenant, episodeId: input.episodeId, call: input.call, requestId: input.requestId });
    // Only reached if nobody killed this process: the parent reports it as a failure.
    process.stdout.write(`done ${JSON.stringify(view)}\n`);
  } finally {
    await storage.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
