import type { TrainerFactory } from '../../layers/core/src';
import { EpisodeServiceError, type StepView } from '../../layers/episodes/src/episode-service';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, gatedFactory, instrumentedFactory, run } from './helpers';

const TENANT = 'tenant-sf';
const CALLERS = 10;

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

function setup(base?: TrainerFactory, leaseMs?: number) {
  const trainers = instrumentedFactory(base);
  const service = new StoredEpisodeService({
    episodes: runtime.episodes,
    checkpoints: runtime.checkpoints,
    trainers,
    clock: steppingClock(),
    newId: sequentialIds(`sf${Math.random().toString(36).slice(2, 8)}`),
    ...(leaseMs !== undefined ? { leaseMs } : {}),
  });
  return { service, trainers };
}

/** A configured episode, ready to train. */
async function configuredEpisode(service: StoredEpisodeService): Promise<string> {
  const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
  await service.step({ tenant: TENANT, episodeId, call: configure({ learning_rate: 0.0005 }) });
  return episodeId;
}

async function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

const codeOf = (error: unknown) => (error instanceof EpisodeServiceError ? error.code : String(error));

describe('one execution per episode at a time (single flight)', () => {
  it(`${CALLERS} concurrent duplicates of one run_epochs train once and all get its result`, async () => {
    const { service, trainers } = setup();
    const episodeId = await configuredEpisode(service);
    const built = trainers.counts.create + trainers.counts.restore;
    trainers.delayMs = 30;
    const views = await Promise.all(
      Array.from({ length: CALLERS }, () => service.step({ tenant: TENANT, episodeId, call: run(3), requestId: 'run-once' })),
    );
    // One trainer, three epochs: trained once.
    expect(trainers.counts.create + trainers.counts.restore - built).toBe(1);
    expect(trainers.counts.trainEpoch).toBe(3);
    expect(views.filter((v) => !v.replayed)).toHaveLength(1);
    const first = views.find((v) => !v.replayed)!;
    for (const view of views) expect({ ...view, replayed: false }).toEqual(first);
    expect(await service.getEpisode(TENANT, episodeId)).toMatchObject({ version: 2, usage: { steps: 2, epochs_trained: 3 } });
    expect(await runtime.episodes.readLease(TENANT, episodeId)).toEqual({ version: 2, lease: null });
  });

  it(`${CALLERS} different concurrent calls train once; the others are refused with episode_busy while it still trains`, async () => {
    const gated = gatedFactory();
    const { service, trainers } = setup(gated.factory);
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId, call: configure({ learning_rate: 0.0005 }) });
    const built = trainers.counts.create + trainers.counts.restore;
    const calls = Array.from({ length: CALLERS }, (_, i) => settle(service.step({ tenant: TENANT, episodeId, call: run(1 + (i % 3)), requestId: `call-${i}` })));
    // The refusals arrive while the gate is shut: the winner cannot have finished, so nobody waited for it.
    const refusals: unknown[] = [];
    await new Promise<void>((resolve) => {
      calls.forEach((call) =>
        void call.then((outcome) => {
          if ('error' in outcome) refusals.push(outcome.error);
          if (refusals.length === CALLERS - 1) resolve();
        }),
      );
    });
    expect(refusals.map(codeOf)).toEqual(Array(CALLERS - 1).fill('episode_busy'));
    expect((refusals[0] as EpisodeServiceError).details).toMatchObject({ episode_id: episodeId });
    gated.open();
    const outcomes = await Promise.all(calls);
    const done = outcomes.filter((o): o is { value: StepView } => 'value' in o);
    expect(done).toHaveLength(1);
    expect(done[0].value).toMatchObject({ version: 2, error: null, replayed: false });
    expect(trainers.counts.create + trainers.counts.restore - built).toBe(1);
    expect(trainers.counts.trainEpoch).toBe(done[0].value.data.epochs_just_trained);
    // The refused calls changed nothing: their request_ids have no stored result, and they run normally afterwards.
    const item = (await runtime.episodes.get(TENANT, episodeId))!;
    expect(Object.keys(item.results)).toHaveLength(1);
    const loser = outcomes.findIndex((o) => 'error' in o);
    expect(await service.step({ tenant: TENANT, episodeId, call: run(1 + (loser % 3)), requestId: `call-${loser}` })).toMatchObject({ version: 3, replayed: false });
  });

  it('a step that fails releases its lease: the next call runs at once', async () => {
    const { service, trainers } = setup();
    const episodeId = await configuredEpisode(service);
    trainers.failAtEpochCall(1);
    await expect(service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'fails' })).rejects.toThrow('simulated trainer fault');
    expect(await runtime.episodes.readLease(TENANT, episodeId)).toEqual({ version: 1, lease: null });
    expect(await service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'fails' })).toMatchObject({ version: 2, replayed: false });
  });

  it("a crashed executor's lease lapses: meanwhile a duplicate waits and another call is busy; then the retry runs", async () => {
    const { service, trainers } = setup();
    const episodeId = await configuredEpisode(service);
    const { callSha256 } = await import('../../layers/episodes/src/call-identity');
    // What a process killed mid-step leaves: its lease, 1.5 s from now (by the store's real clock).
    const left = await runtime.episodes.acquireLease(TENANT, episodeId, 1, { holder: 'crashed', request_id: 'retry-me', call_sha256: callSha256(run(2)) }, 1500);
    expect(left).toHaveProperty('acquired');
    await expect(service.step({ tenant: TENANT, episodeId, call: run(1), requestId: 'other' })).rejects.toMatchObject({ code: 'episode_busy' });
    await expect(service.step({ tenant: TENANT, episodeId, call: run(5), requestId: 'retry-me' })).rejects.toMatchObject({ code: 'conflict' });
    expect(trainers.counts.trainEpoch).toBe(0);
    // The retry of the crashed request waits for the lease to lapse, then executes it.
    const retried = await service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'retry-me' });
    expect(retried).toMatchObject({ version: 2, error: null, replayed: false });
    expect(trainers.counts.trainEpoch).toBe(2);
    expect(await runtime.episodes.readLease(TENANT, episodeId)).toEqual({ version: 2, lease: null });
  });
});
