import type { ToolCall } from '../../layers/core/src';
import { StepExecutor } from '../../layers/episodes/src/step-executor';
import { planStep } from '../../layers/episodes/src/step-plan';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import type { EpisodeStore } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, playInMemory, run, status, submitCall } from './helpers';

/** Calls that touch no trainer commit without the episode's lease (one storage write fewer), and still never run beside a leased step. */

const TENANT = 'tenant-unleased';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

/** The real store, counting the leases taken through it. */
function countingStore(): { episodes: EpisodeStore; leases: () => number } {
  let leases = 0;
  const episodes = new Proxy(runtime.episodes, {
    get(target, name, receiver) {
      if (name === 'acquireLease') {
        return (...args: Parameters<EpisodeStore['acquireLease']>) => {
          leases++;
          return target.acquireLease(...args);
        };
      }
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { episodes, leases: () => leases };
}

function setup(episodes: EpisodeStore = runtime.episodes) {
  const trainers = instrumentedFactory();
  const newId = sequentialIds(`ul${Math.random().toString(36).slice(2, 8)}`);
  const clock = steppingClock();
  const service = new StoredEpisodeService({ episodes, checkpoints: runtime.checkpoints, trainers, clock, newId });
  return { service, trainers, clock, newId };
}

const lr: ToolCall = { tool: 'adjust_learning_rate', arguments: { new_lr: 0.002 } };
const augment: ToolCall = { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.4 } };
const unknownTool: ToolCall = { tool: 'train_harder' };

describe('steps that touch no trainer', () => {
  it('commit without the lease, with the results of the pure core; configure, run_epochs and augmentation still take it', async () => {
    const counting = countingStore();
    const { service, trainers } = setup(counting.episodes);
    const calls = [configure({ learning_rate: 0.0005 }), run(2), status, lr, unknownTool, augment, status, run(1), submitCall];
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    const views = [];
    for (const [i, call] of calls.entries()) views.push(await service.step({ tenant: TENANT, episodeId, call, requestId: `r${i}` }));
    // configure, both run_epochs and toggle_augmentation: the calls that use the trainer.
    expect(counting.leases()).toBe(4);
    expect(trainers.counts.restore).toBe(3);
    const reference = await playInMemory('easy_mnist', calls);
    expect(views.map((v) => v.data)).toEqual(reference.results.map((r) => r.data));
    expect(views.map((v) => v.version)).toEqual(calls.map((_, i) => i + 1));
    const item = (await runtime.episodes.get(TENANT, episodeId))!;
    expect(item.record).toEqual(reference.record);
    expect(item.usage).toEqual({ steps: calls.length, epochs_trained: 3, training_seconds: expect.any(Number) });
    expect(Object.keys(item.results)).toHaveLength(calls.length);
    expect(await runtime.episodes.readLease(TENANT, episodeId)).toEqual({ version: calls.length, lease: null });
  });

  it("are refused with episode_busy while another step holds the lease, and change nothing", async () => {
    const { service } = setup();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId, call: configure() });
    const held = await runtime.episodes.acquireLease(TENANT, episodeId, 1, { holder: 'trainer', request_id: null, call_sha256: 'x' }, 30_000);
    expect(held).toHaveProperty('acquired');
    for (const call of [status, lr, submitCall]) {
      await expect(service.step({ tenant: TENANT, episodeId, call, requestId: `busy-${call.tool}` })).rejects.toMatchObject({ code: 'episode_busy' });
    }
    expect(await runtime.episodes.releaseLease(TENANT, episodeId, 'trainer')).toBe(true);
    const item = (await runtime.episodes.get(TENANT, episodeId))!;
    expect(item.version).toBe(1);
    expect(Object.keys(item.results)).toHaveLength(0);
    expect(await service.step({ tenant: TENANT, episodeId, call: status })).toMatchObject({ version: 2, error: null });
  });

  it('whose episode is leased between their read and their commit write nothing, and go on under single flight', async () => {
    const { service, clock, newId } = setup();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId, call: configure() });
    const executor = new StepExecutor({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: instrumentedFactory(), clock, newId, logger: console });
    const plan = await planStep(runtime.episodes, { tenant: TENANT, episodeId, call: status, requestId: 'raced' });
    if (plan.kind !== 'execute') throw new Error('expected a plan to execute');
    await runtime.episodes.acquireLease(TENANT, episodeId, 1, { holder: 'trainer', request_id: null, call_sha256: 'x' }, 30_000);
    expect(await executor.executeUnleased(plan.step)).toEqual({ kind: 'refused' });
    expect(await runtime.episodes.readLease(TENANT, episodeId)).toMatchObject({ version: 1, lease: { holder: 'trainer' } });
    await expect(service.step({ tenant: TENANT, episodeId, call: status, requestId: 'raced' })).rejects.toMatchObject({ code: 'episode_busy' });
    await runtime.episodes.releaseLease(TENANT, episodeId, 'trainer');
    // A commit that lost to another one (the version moved on) writes nothing either.
    await service.step({ tenant: TENANT, episodeId, call: status });
    expect(await executor.executeUnleased(plan.step)).toEqual({ kind: 'refused' });
    expect((await runtime.episodes.get(TENANT, episodeId))!.results).not.toHaveProperty('raced');
  });

  it('sent concurrently with one request_id commit once and every copy gets its result', async () => {
    const { service } = setup();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId, call: configure() });
    const views = await Promise.all(Array.from({ length: 5 }, () => service.step({ tenant: TENANT, episodeId, call: status, requestId: 'dup' })));
    expect(new Set(views.map((v) => v.version))).toEqual(new Set([2]));
    expect(views.filter((v) => !v.replayed)).toHaveLength(1);
    expect((await runtime.episodes.get(TENANT, episodeId))!.version).toBe(2);
  });

  it('before the first checkpoint take the lease as before (the first step saves a fresh trainer)', async () => {
    const counting = countingStore();
    const { service, trainers } = setup(counting.episodes);
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId, call: status });
    expect(counting.leases()).toBe(1);
    expect(trainers.counts.create).toBe(1);
    expect((await runtime.episodes.get(TENANT, episodeId))!.checkpoint).not.toBeNull();
  });
});
