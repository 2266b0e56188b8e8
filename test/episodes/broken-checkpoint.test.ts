import { gradeEpisode, gradeInputOf, type ToolCall } from '../../layers/core/src';
import { StoredEpisodeService } from '../../layers/episodes/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { CORRUPTIONS, corruptCheckpoint } from './corruptions';
import { configure, instrumentedFactory, run, status, submitCall } from './helpers';

/**
 * Issue 12, item 4: a checkpoint that is missing or does not match its pointer never wedges
 * the episode. Training tools answer the tool error checkpoint_unavailable (a step, as every
 * call while the episode is active), get_training_status and submit_model never load the
 * checkpoint, and the submission grades the stored metrics.
 */

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

const TENANT = 'tenant-broken';

function makeService() {
  const errors: { message: string; details: Record<string, unknown> }[] = [];
  const trainers = instrumentedFactory();
  const service = new StoredEpisodeService({
    episodes: runtime.episodes,
    checkpoints: runtime.checkpoints,
    trainers,
    clock: steppingClock(),
    newId: sequentialIds(`b${Math.random().toString(36).slice(2, 8)}`),
    logger: { warn: () => undefined, error: (message: string, details?: Record<string, unknown>) => errors.push({ message, details: details ?? {} }) },
  });
  return { service, trainers, errors };
}

async function trainedEpisode(service: StoredEpisodeService, seed: number): Promise<string> {
  const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist', seed });
  for (const call of [configure({ optimizer: 'adam', learning_rate: 0.001 }), run(3)]) await service.step({ tenant: TENANT, episodeId, call });
  return episodeId;
}

async function corrupt(episodeId: string, mode: string, foreignEpisodeId: string): Promise<void> {
  const pointer = (await runtime.episodes.get(TENANT, episodeId))!.checkpoint!;
  await corruptCheckpoint(runtime.checkpoints, pointer, mode, (await runtime.episodes.get(TENANT, foreignEpisodeId))!.checkpoint!);
}

describe('a broken checkpoint', () => {
  let foreign: string;
  beforeAll(async () => {
    foreign = await trainedEpisode(makeService().service, 7);
  });

  it.each(Object.keys(CORRUPTIONS))('(%s): training tools answer checkpoint_unavailable; status and submit_model still work', async (mode) => {
    const { service, trainers, errors } = makeService();
    const episodeId = await trainedEpisode(service, 42);
    const before = (await runtime.episodes.get(TENANT, episodeId))!;
    await corrupt(episodeId, mode, foreign);
    trainers.counts.restore = 0;

    const calls: ToolCall[] = [run(2), configure({ optimizer: 'sgd', learning_rate: 0.01 }), { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.5 } }];
    for (const [i, call] of calls.entries()) {
      const view = await service.step({ tenant: TENANT, episodeId, call });
      // A step like any other rejected call: counted, no reward, nothing trained, the metrics as they were.
      expect(view).toMatchObject({ version: before.version + 1 + i, done: false, reward: 0, error: { code: 'checkpoint_unavailable' } });
      expect(view.error!.message).toContain(episodeId);
      expect(view.error!.message).toContain('submit_model');
      expect(view.data).toMatchObject({ current_epoch: 3 });
    }
    expect(trainers.counts).toMatchObject({ restore: 0, trainEpoch: 3, live: 0 });
    expect(errors).toHaveLength(calls.length);
    expect(errors[0]).toMatchObject({ message: expect.stringContaining('Checkpoint unavailable'), details: { episode_id: episodeId, key: before.checkpoint!.key } });
    const after = (await runtime.episodes.get(TENANT, episodeId))!;
    expect(after.checkpoint).toEqual(before.checkpoint); // the broken pointer stays: nothing new was uploaded
    expect(after.record.model).toEqual(before.record.model);
    expect(after.record.steps.slice(-3).map((s) => s.error?.code)).toEqual(['checkpoint_unavailable', 'checkpoint_unavailable', 'checkpoint_unavailable']);

    const statusView = await service.step({ tenant: TENANT, episodeId, call: status });
    expect(statusView).toMatchObject({ error: null, done: false });
    expect(statusView.data).toMatchObject({ config: before.record.config, current_epoch: 3 });

    const submitted = await service.step({ tenant: TENANT, episodeId, call: submitCall });
    expect(submitted).toMatchObject({ error: null, done: true, grade: gradeEpisode(gradeInputOf(before.record)) });
    expect((await service.getEpisode(TENANT, episodeId)).status).toBe('submitted');
    expect(errors).toHaveLength(calls.length); // status and submit never touched the checkpoint
  });

  it('an episode whose checkpoint is fine trains as before (the lazy restore builds the trainer once per training step)', async () => {
    const { service, trainers } = makeService();
    const episodeId = await trainedEpisode(service, 3);
    expect(trainers.counts).toMatchObject({ create: 1, restore: 1 });
    const view = await service.step({ tenant: TENANT, episodeId, call: run(1) });
    expect(view).toMatchObject({ error: null, data: { current_epoch: 4 } });
    await service.step({ tenant: TENANT, episodeId, call: status });
    expect(trainers.counts).toMatchObject({ create: 1, restore: 2, live: 0 });
  });
});
