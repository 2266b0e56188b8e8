import { createHash } from 'node:crypto';
import { replayTrainerOperations, type Trainer, type TrainerFactory, type ToolCall } from '../../layers/core/src';
import { createStoredEpisodeService, type StoredEpisodeService } from '../../layers/episodes/src';
import type { StoredEpisode } from '../../layers/storage/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { tempDir, writeTinyIdx } from '../datasets/helpers/tiny-datasets';
import { tinyIdxTrainerFactory } from '../datasets/helpers/tiny-trainers';
import { startCloud, type Cloud } from './helpers';

/**
 * The acceptance bar of deferred trainer calls: one sequence of calls played (a) through the
 * local StoredEpisodeService, every trainer call made at once, and (b) through the cloud app,
 * where only the steps that train reach the training Lambda and the others' trainer calls
 * wait on the item, gives the same answers, records, usage and trainer state bit for bit.
 * Real tfjs training on tiny official-format MNIST files; the passes report a fixed duration
 * (wall time is the one thing allowed to differ between two runs).
 */

const TENANT = 'tenant-a';
const PASS_SECONDS = 0.25;

const SCRIPT: ToolCall[] = [
  { tool: 'run_epochs', arguments: { num_epochs: 2 } }, // rejected: not configured
  { tool: 'configure_training', arguments: { optimizer: 'adam', learning_rate: 0.01, batch_size: 32, dropout: 0.1 } },
  { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.4 } },
  { tool: 'get_training_status' },
  { tool: 'run_epochs', arguments: { num_epochs: 2 } },
  { tool: 'adjust_learning_rate', arguments: { new_lr: 0.005 } },
  // Same dropout, another optimizer: the weights stay, the optimizer state does not.
  { tool: 'configure_training', arguments: { optimizer: 'sgd', learning_rate: 0.02, batch_size: 32, dropout: 0.1 } },
  { tool: 'toggle_augmentation', arguments: { enabled: false } },
  { tool: 'run_epochs', arguments: { num_epochs: 1 } },
  // Another dropout: a fresh model; then a call the core rejects, a training step and the submission.
  { tool: 'configure_training', arguments: { optimizer: 'adamw', learning_rate: 0.003, batch_size: 64, dropout: 0.3, augmentation: true } },
  { tool: 'no_such_tool', arguments: {} },
  { tool: 'run_epochs', arguments: { num_epochs: 2 } },
  { tool: 'submit_model' },
];
const TRAINING_STEPS = 3;

function tinyMnistFactory(dataDir: string): TrainerFactory {
  const real = tinyIdxTrainerFactory(dataDir);
  const fixedTime = (inner: Trainer): Trainer => ({
    buildModel: (c) => inner.buildModel(c),
    applyConfig: (c, o) => inner.applyConfig(c, o),
    setAugmentation: (s) => inner.setAugmentation(s),
    trainEpoch: async (lr) => ({ ...(await inner.trainEpoch(lr)), seconds: PASS_SECONDS }),
    evaluate: async () => ({ ...(await inner.evaluate()), seconds: PASS_SECONDS }),
    keepBestWeights: () => inner.keepBestWeights(),
    saveCheckpoint: () => inner.saveCheckpoint(),
    dispose: () => inner.dispose(),
  });
  return {
    create: async (spec) => fixedTime(await real.create(spec)),
    restore: async (spec, checkpoint) => fixedTime(await real.restore(spec, checkpoint)),
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('deferred trainer calls: the cloud path equals the immediate local one, bit for bit (real tiny training)', () => {
  let factory: TrainerFactory;
  let localRuntime: LocalRuntime;
  let local: StoredEpisodeService;
  let cloud: Cloud;

  beforeAll(async () => {
    const dataDir = tempDir('mlt-deferred-');
    writeTinyIdx(dataDir, 'mnist', true);
    factory = tinyMnistFactory(dataDir);
    localRuntime = await startLocalRuntime();
    local = createStoredEpisodeService(localRuntime, factory);
    cloud = await startCloud({ trainers: factory, apiEnv: { SYNC_STEP_BUDGET_MS: '600000' } });
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
    await localRuntime?.close();
  });

  /** The trainer state an item stands for: its checkpoint with its pending trainer calls replayed (saved as a checkpoint). */
  async function trainerState(runtime: LocalRuntime, episode: StoredEpisode): Promise<string> {
    const stored = episode.checkpoint === null ? null : await runtime.checkpoints.getCheckpoint(episode.checkpoint);
    const ops = episode.trainer_ops ?? [];
    if (stored !== null && ops.length === 0) return sha256(stored);
    const spec = { taskId: episode.record.task_id, seed: episode.record.seed };
    const trainer = stored === null ? await factory.create(spec) : await factory.restore(spec, stored);
    try {
      await replayTrainerOperations(trainer, ops);
      return sha256(await trainer.saveCheckpoint());
    } finally {
      trainer.dispose();
    }
  }

  it('gives identical step answers, records, usage and trainer state after every step; only the training steps invoke the training Lambda', async () => {
    const mine = await local.createEpisode({ tenant: TENANT, taskId: 'easy_mnist', seed: 11 });
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist', seed: 11 } });
    expect(created.status).toBe(201);
    const theirs = created.json.episode_id as string;
    const neutral = (view: Record<string, unknown>) => ({ ...view, episode_id: '<episode>' });
    // REST answers a tool error with the step view in error.details.step.
    const viewOf = (json: { error?: { details?: { step?: Record<string, unknown> } } }) => json.error?.details?.step ?? (json as Record<string, unknown>);

    for (const [i, call] of SCRIPT.entries()) {
      const requestId = `call-${i}`;
      const immediate = await local.step({ tenant: TENANT, episodeId: mine.episode_id, call, requestId });
      const answer = await cloud.api('POST', `/v1/episodes/${theirs}/steps`, { body: { ...call, request_id: requestId } });
      expect(neutral(viewOf(answer.json))).toEqual(neutral(immediate as unknown as Record<string, unknown>));

      const a = (await localRuntime.episodes.get(TENANT, mine.episode_id))!;
      const b = (await cloud.runtime.episodes.get(TENANT, theirs))!;
      expect(b.record).toEqual(a.record);
      expect(b.usage).toEqual(a.usage);
      expect(b.version).toBe(a.version);
      expect(await trainerState(cloud.runtime, b)).toBe(await trainerState(localRuntime, a));
      // The cloud's item points at a checkpoint only once a step trained; its pending calls are dropped by the step that trains.
      if (call.tool === 'run_epochs' && b.usage.epochs_trained > 0) expect(b.trainer_ops).toBeUndefined();
    }
    expect(cloud.training.invocations).toHaveLength(TRAINING_STEPS);
    expect(cloud.training.invocations.every((c) => (c.event as { call: ToolCall }).call.tool === 'run_epochs')).toBe(true);

    // The final checkpoints themselves are the same bytes.
    const a = (await localRuntime.episodes.get(TENANT, mine.episode_id))!;
    const b = (await cloud.runtime.episodes.get(TENANT, theirs))!;
    expect(b.checkpoint!.sha256).toBe(a.checkpoint!.sha256);
    expect(b.record.status).toBe('submitted');
  }, 120_000);
});
