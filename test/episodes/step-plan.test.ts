import {
  EpisodeServiceError,
  immediateSteps,
  planStep,
  StoredEpisodeCatalog,
  StoredEpisodeService,
  type EpisodeReader,
} from '../../layers/episodes/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, run, submitCall } from './helpers';

/**
 * Planning a step reads the episode item and nothing else: what it answers (replay,
 * episode_over) changes nothing, and a step that must execute comes back as a value,
 * without a trainer or a checkpoint bucket anywhere in reach.
 */

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

const TENANT = 'tenant-plan';

/** The store as planning may see it: `get`, counted; touching anything else fails the test. */
function readOnly(): EpisodeReader & { reads: number } {
  const reader = {
    reads: 0,
    get: (tenant: string, episodeId: string) => {
      reader.reads++;
      return runtime.episodes.get(tenant, episodeId);
    },
  };
  return new Proxy(reader, {
    get(target, property) {
      if (property !== 'get' && property !== 'reads') throw new Error(`planning touched the store's ${String(property)}`);
      return Reflect.get(target, property);
    },
  });
}

function services() {
  const trainers = instrumentedFactory();
  const ids = sequentialIds(`p${Math.random().toString(36).slice(2, 8)}`);
  const catalog = new StoredEpisodeCatalog({ episodes: runtime.episodes, clock: steppingClock(), newId: ids });
  const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers, clock: steppingClock(), newId: ids });
  return { catalog, service, trainers };
}

describe('planStep', () => {
  it('returns an execution as a value, with the episode as read, without any trainer or bucket', async () => {
    const { catalog } = services();
    const { episode_id } = await catalog.createEpisode({ tenant: TENANT, taskId: 'easy_mnist', seed: 3 });
    const reader = readOnly();
    const plan = await planStep(reader, { tenant: TENANT, episodeId: episode_id, call: configure(), requestId: 'c-1' });
    expect(plan).toMatchObject({
      kind: 'execute',
      step: { episode: { episode_id, version: 0, checkpoint: null }, call: configure(), callHash: expect.stringMatching(/^[0-9a-f]{64}$/), requestId: 'c-1' },
    });
    expect(reader.reads).toBe(1);
    expect((await runtime.episodes.get(TENANT, episode_id))?.version).toBe(0);
  });

  it('answers the replay of a stored request_id from the item, and refuses the same id for another call', async () => {
    const { catalog, service, trainers } = services();
    const { episode_id } = await catalog.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId: episode_id, call: configure() });
    const committed = await service.step({ tenant: TENANT, episodeId: episode_id, call: run(2), requestId: 'r-2' });
    const used = { ...trainers.counts };

    const plan = await planStep(readOnly(), { tenant: TENANT, episodeId: episode_id, call: run(2), requestId: 'r-2' });
    expect(plan).toEqual({ kind: 'answer', view: { ...committed, replayed: true } });
    const refused = await planStep(readOnly(), { tenant: TENANT, episodeId: episode_id, call: run(3), requestId: 'r-2' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EpisodeServiceError);
    expect((refused as EpisodeServiceError).code).toBe('conflict');
    expect(trainers.counts).toEqual(used);
  });

  it('answers episode_over after the end without executing', async () => {
    const { catalog, service, trainers } = services();
    const { episode_id } = await catalog.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId: episode_id, call: configure() });
    const submitted = await service.step({ tenant: TENANT, episodeId: episode_id, call: submitCall });
    const used = { ...trainers.counts };

    const plan = await planStep(readOnly(), { tenant: TENANT, episodeId: episode_id, call: run(1) });
    expect(plan).toMatchObject({ kind: 'answer', view: { version: submitted.version, error: { code: 'episode_over' }, done: true } });
    expect(trainers.counts).toEqual(used);
  });

  it('refuses an unknown episode and a malformed request_id before anything else', async () => {
    const unknown = await planStep(readOnly(), { tenant: TENANT, episodeId: 'no-such-episode', call: run(1) }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'not_found' });
    const reader = readOnly();
    const invalid = await planStep(reader, { tenant: TENANT, episodeId: 'x', call: run(1), requestId: 'has spaces' }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'invalid_request', details: { field: 'request_id' } });
    expect((invalid as Error).message).toMatch(/1 to 128 characters/);
    expect(reader.reads).toBe(0);
  });

  it('refuses a request_id that is not a string, even one whose text would pass', async () => {
    const reader = readOnly();
    const refused = await planStep(reader, { tenant: TENANT, episodeId: 'x', call: run(1), requestId: 42 as unknown as string }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'invalid_request', details: { field: 'request_id' } });
    expect(reader.reads).toBe(0);
  });

  it.each([
    ['null', null],
    ['a string', 'run_epochs'],
    ['a number', 7],
    ['an array', [{ tool: 'run_epochs', arguments: { epochs: 1 } }]],
  ])('refuses %s as the call, naming the call, before reading the episode', async (_what, call) => {
    const reader = readOnly();
    const refused = await planStep(reader, { tenant: TENANT, episodeId: 'x', call: call as never }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EpisodeServiceError);
    expect(refused).toMatchObject({ code: 'invalid_request', details: { field: 'call' } });
    expect((refused as Error).message).toContain('{"tool": <name>, "arguments": {...}}');
    expect(reader.reads).toBe(0);
  });

  it('names the request_id and the step it was used on when it is reused for another call', async () => {
    const { catalog, service } = services();
    const { episode_id } = await catalog.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    const first = await service.step({ tenant: TENANT, episodeId: episode_id, call: configure(), requestId: 'once' });
    const refused = await planStep(readOnly(), { tenant: TENANT, episodeId: episode_id, call: run(1), requestId: 'once' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'conflict', details: { field: 'request_id', version: first.version } });
  });

  it('never replays a step sent without request_id, even when a result is stored under the id "undefined"', async () => {
    const { catalog, service } = services();
    const { episode_id } = await catalog.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId: episode_id, call: configure(), requestId: 'undefined' });
    const plan = await planStep(readOnly(), { tenant: TENANT, episodeId: episode_id, call: configure() });
    expect(plan).toMatchObject({ kind: 'execute', step: { requestId: undefined, episode: { version: 1 } } });
  });
});

describe('immediateSteps', () => {
  it('answers every submitted step as done, and has nothing to poll', async () => {
    const { catalog, service } = services();
    const { episode_id } = await catalog.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    const steps = immediateSteps(service);
    const outcome = await steps.submitStep({ tenant: TENANT, episodeId: episode_id, call: configure(), requestId: 'i-1' });
    expect(outcome).toMatchObject({ kind: 'done', view: { episode_id, version: 1, tool: 'configure_training', error: null } });
    await expect(steps.pollStep(TENANT, episode_id, 'i-1')).rejects.toMatchObject({ code: 'not_found', details: { episode_id, step_id: 'i-1' } });
  });
});
