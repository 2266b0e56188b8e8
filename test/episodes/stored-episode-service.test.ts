import type { StepResult, ToolCall } from '../../layers/core/src';
import { EpisodeServiceError, type StepView } from '../../layers/episodes/src/episode-service';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import type { LeaseTimer } from '../../layers/episodes/src/lease-heartbeat';
import { planStep } from '../../layers/episodes/src/step-plan';
import { BlobStore, EpisodeStore, StorageError, checkpointPrefix, type BlobListing, type CheckpointPointer, type PreparedEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, playInMemory, run, status, submitCall, type InstrumentedFactory } from './helpers';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

type Warn = (message: string, fields?: Record<string, unknown>) => void;

function makeService(options: { trainers?: InstrumentedFactory; episodes?: EpisodeStore; checkpoints?: BlobStore; leaseMs?: number; leaseTimer?: LeaseTimer; warn?: Warn } = {}) {
  const trainers = options.trainers ?? instrumentedFactory();
  const service = new StoredEpisodeService({
    episodes: options.episodes ?? runtime.episodes,
    checkpoints: options.checkpoints ?? runtime.checkpoints,
    trainers,
    clock: steppingClock(),
    newId: sequentialIds(`t${Math.random().toString(36).slice(2, 8)}`),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.leaseTimer !== undefined ? { leaseTimer: options.leaseTimer } : {}),
    ...(options.warn !== undefined ? { logger: { warn: options.warn } } : {}),
  });
  return { service, trainers };
}

/** What a step returns, without what differs between two episodes. */
function comparable(view: StepView) {
  const { episode_id: _id, replayed: _replayed, ...rest } = view;
  return rest;
}

function expectedView(result: StepResult) {
  return JSON.parse(JSON.stringify({ tool: result.tool, data: result.data, error: result.error, reward: result.reward, done: result.done, grade: result.grade }));
}

async function checkpointKeys(tenant: string, episodeId: string): Promise<string[]> {
  return (await runtime.checkpoints.listAll(checkpointPrefix(tenant, episodeId))).map((o) => o.key);
}

async function serviceError(promise: Promise<unknown>): Promise<EpisodeServiceError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EpisodeServiceError);
  return error as EpisodeServiceError;
}

const WHOLE_EPISODE: ToolCall[] = [
  configure({ optimizer: 'adam', learning_rate: 0.001 }),
  run(10),
  status,
  { tool: 'adjust_learning_rate', arguments: { new_lr: 0.0005 } },
  run(20),
  { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3 } },
  { tool: 'run_epochs', arguments: { num_epochs: 'many' } },
  { tool: 'no_such_tool' },
  submitCall,
];

describe('StoredEpisodeService', () => {
  it('plays a whole episode exactly as the pure core does, persisting every step', async () => {
    const { service, trainers } = makeService();
    const created = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    expect(created).toMatchObject({ tenant: 'tenant-a', task_id: 'easy_mnist', seed: 42, status: 'active', version: 0, step_count: 0, score: null });
    expect(created.usage).toEqual({ steps: 0, epochs_trained: 0, training_seconds: 0 });
    const reference = await playInMemory('easy_mnist', WHOLE_EPISODE);
    const epochsSeen: number[] = [];
    for (const [i, call] of WHOLE_EPISODE.entries()) {
      const view = await service.step({ tenant: 'tenant-a', episodeId: created.episode_id, call, onEpoch: (p) => epochsSeen.push(p.epoch) });
      expect(view).toMatchObject({ episode_id: created.episode_id, version: i + 1, step: i + 1, replayed: false });
      expect(comparable(view)).toEqual({ version: i + 1, step: i + 1, ...expectedView(reference.results[i]) });
      // One checkpoint object per episode: the superseded one is deleted after each commit.
      expect(await checkpointKeys('tenant-a', created.episode_id)).toHaveLength(1);
    }
    expect(epochsSeen).toHaveLength(30);
    const stored = await service.getEpisode('tenant-a', created.episode_id);
    expect(stored.record).toEqual(reference.record);
    expect(stored).toMatchObject({ status: 'submitted', version: WHOLE_EPISODE.length, step_count: WHOLE_EPISODE.length, score: reference.record.grade!.score });
    expect(stored.score).toBeGreaterThan(0);
    // Formula trainer: 0.01 s per training pass and per validation pass.
    expect(stored.usage).toEqual({ steps: WHOLE_EPISODE.length, epochs_trained: 30, training_seconds: 0.6 });
    // The stored checkpoint is the reference trainer's state, byte for byte.
    const item = await runtime.episodes.get('tenant-a', created.episode_id);
    expect(Buffer.from(await runtime.checkpoints.getCheckpoint(item!.checkpoint!)).equals(Buffer.from(reference.checkpoint))).toBe(true);
    // Only calls that use the trainer build one (lazy restore): configure (fresh), the two runs and the toggle
    // restore from checkpoints; status, the lr change, the two rejected calls and the submission build none.
    // Every trainer built was disposed.
    const TRAINER_STEPS = 4;
    expect(trainers.counts).toMatchObject({ create: 1, restore: TRAINER_STEPS - 1, dispose: TRAINER_STEPS, live: 0 });

    // After the end: an episode_over answer that is not a step, and no trainer is touched.
    const over = await service.step({ tenant: 'tenant-a', episodeId: created.episode_id, call: run(5) });
    expect(over).toMatchObject({ version: WHOLE_EPISODE.length, step: WHOLE_EPISODE.length, done: true, reward: 0, error: { code: 'episode_over' } });
    expect((await service.getEpisode('tenant-a', created.episode_id)).version).toBe(WHOLE_EPISODE.length);
    expect(trainers.counts.create + trainers.counts.restore).toBe(TRAINER_STEPS);
  });

  it("scopes everything to the tenant: another tenant's episode is not_found", async () => {
    const { service } = makeService();
    const mine = await service.createEpisode({ tenant: 'owner', taskId: 'easy_mnist' });
    await service.step({ tenant: 'owner', episodeId: mine.episode_id, call: configure() });
    expect((await serviceError(service.getEpisode('intruder', mine.episode_id))).code).toBe('not_found');
    expect((await serviceError(service.step({ tenant: 'intruder', episodeId: mine.episode_id, call: run(1) }))).code).toBe('not_found');
    expect((await service.listEpisodes('intruder')).items).toEqual([]);
    expect((await service.getEpisode('owner', mine.episode_id)).version).toBe(1);
    expect((await serviceError(service.getEpisode('owner', 'no-such-episode'))).code).toBe('not_found');
    expect((await serviceError(service.getEpisode('bad/tenant', mine.episode_id))).code).toBe('invalid_request');
    const badTask = await serviceError(service.createEpisode({ tenant: 'owner', taskId: 'imagenet' }));
    expect(badTask).toMatchObject({ code: 'invalid_request', details: { code: 'unknown_task', field: 'task_id' } });
  });

  it("lists a tenant's episodes newest first with a cursor", async () => {
    const { service } = makeService();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await service.createEpisode({ tenant: 'lister', taskId: 'easy_mnist', seed: i })).episode_id);
    await service.step({ tenant: 'lister', episodeId: ids[0], call: configure() });
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page: Awaited<ReturnType<StoredEpisodeService['listEpisodes']>> = await service.listEpisodes('lister', { limit: 2, cursor });
      pages.push(page.items.map((e) => e.episode_id));
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
    expect(pages).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);
    const all = await service.listEpisodes('lister');
    expect(all.cursor).toBeNull();
    expect(all.items.find((e) => e.episode_id === ids[0])).toMatchObject({ version: 1, step_count: 1, seed: 0, tenant: 'lister' });
    expect((await serviceError(service.listEpisodes('lister', { cursor: 'garbage' }))).code).toBe('invalid_request');
    expect((await serviceError(service.listEpisodes('lister', { limit: 0 }))).code).toBe('invalid_request');
  });

  it('a repeated request_id trains once and returns the identical result', async () => {
    const { service, trainers } = makeService();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await service.step({ tenant: 'tenant-a', episodeId, call: configure(), requestId: 'req-configure' });
    const before = trainers.counts.trainEpoch;
    const first = await service.step({ tenant: 'tenant-a', episodeId, call: run(4), requestId: 'req-run' });
    expect(trainers.counts.trainEpoch - before).toBe(4);
    const again = await service.step({ tenant: 'tenant-a', episodeId, call: { tool: 'run_epochs', arguments: { num_epochs: 4 } }, requestId: 'req-run' });
    expect(trainers.counts.trainEpoch - before).toBe(4);
    expect(again).toEqual({ ...first, replayed: true });
    expect(first.replayed).toBe(false);
    const episode = await service.getEpisode('tenant-a', episodeId);
    expect(episode).toMatchObject({ version: 2, usage: { steps: 2, epochs_trained: 4 } });
    // An older request id still replays after later steps; argument key order does not matter.
    await service.step({ tenant: 'tenant-a', episodeId, call: status });
    const oldReplay = await service.step({
      tenant: 'tenant-a',
      episodeId,
      call: { arguments: {}, tool: 'configure_training' },
      requestId: 'req-configure',
    });
    expect(oldReplay).toMatchObject({ version: 1, step: 1, replayed: true });
    expect((await service.getEpisode('tenant-a', episodeId)).version).toBe(3);
  });

  it('refuses a request_id reused with a different call', async () => {
    const { service } = makeService();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await service.step({ tenant: 'tenant-a', episodeId, call: configure(), requestId: 'req-1' });
    const error = await serviceError(service.step({ tenant: 'tenant-a', episodeId, call: run(2), requestId: 'req-1' }));
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/request_id "req-1" was already used for a different call.*needs a new request_id/);
    expect((await service.getEpisode('tenant-a', episodeId)).version).toBe(1);
    const invalid = await serviceError(service.step({ tenant: 'tenant-a', episodeId, call: run(2), requestId: 'spaces are not allowed' }));
    expect(invalid).toMatchObject({ code: 'invalid_request', details: { field: 'request_id' } });
  });

  it('commits tool errors (invalid arguments) as steps, replayable like any other', async () => {
    const { service } = makeService();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    const view = await service.step({ tenant: 'tenant-a', episodeId, call: run(3), requestId: 'early' });
    expect(view).toMatchObject({ version: 1, step: 1, error: { code: 'not_configured' } });
    expect(await service.step({ tenant: 'tenant-a', episodeId, call: run(3), requestId: 'early' })).toEqual({ ...view, replayed: true });
  });

  it('a trainer fault leaves the episode at its previous version; the retry matches an undisturbed run', async () => {
    const { service, trainers } = makeService();
    const disturbed = (await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' })).episode_id;
    const undisturbed = (await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' })).episode_id;
    for (const episodeId of [disturbed, undisturbed]) {
      await service.step({ tenant: 'tenant-a', episodeId, call: configure({ learning_rate: 0.0008 }) });
      await service.step({ tenant: 'tenant-a', episodeId, call: run(2) });
    }
    const before = await runtime.episodes.get('tenant-a', disturbed);
    trainers.failAtEpochCall(3);
    await expect(service.step({ tenant: 'tenant-a', episodeId: disturbed, call: run(5), requestId: 'r-5' })).rejects.toThrow(/simulated trainer fault/);
    expect(trainers.counts.live).toBe(0);
    const after = await runtime.episodes.get('tenant-a', disturbed);
    expect(after).toEqual(before);
    expect(await checkpointKeys('tenant-a', disturbed)).toEqual([before!.checkpoint!.key]);

    const retried = await service.step({ tenant: 'tenant-a', episodeId: disturbed, call: run(5), requestId: 'r-5' });
    const reference = await service.step({ tenant: 'tenant-a', episodeId: undisturbed, call: run(5) });
    expect(retried.replayed).toBe(false);
    expect(comparable(retried)).toEqual(comparable(reference));
    const [a, b] = await Promise.all([service.getEpisode('tenant-a', disturbed), service.getEpisode('tenant-a', undisturbed)]);
    expect(a.record).toEqual(b.record);
    expect(a.usage).toEqual(b.usage);
  });

  it('refuses a step whose item would exceed the safety limit, writing nothing', async () => {
    const current = await runtime.episodes.get('tenant-a', (await makeService().service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' })).episode_id);
    // A store whose limit sits just above a configured episode: 2 KB of logged arguments push it over.
    const tight = new EpisodeStore(runtime.clients.documents, {
      tableName: runtime.episodes.tableName,
      retentionSeconds: runtime.episodes.retentionSeconds,
      maxItemBytes: runtime.episodes.prepare(current!).estimatedBytes + 1500,
    });
    const { service } = makeService({ episodes: tight });
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
    const before = await runtime.episodes.get('tenant-a', episodeId);
    const huge = { tool: 'run_epochs', arguments: { num_epochs: 'x'.repeat(1900) } };
    const error = await serviceError(service.step({ tenant: 'tenant-a', episodeId, call: huge }));
    expect(error).toMatchObject({ code: 'invalid_request', details: { reason: 'item_too_large' } });
    expect(error.message).toMatch(/safety limit.*nothing was written/);
    expect(await runtime.episodes.get('tenant-a', episodeId)).toEqual(before);
    expect(await checkpointKeys('tenant-a', episodeId)).toEqual([before!.checkpoint!.key]);
    expect(await service.step({ tenant: 'tenant-a', episodeId, call: run(1) })).toMatchObject({ version: 2, error: null });
  });

  it('recognises its own commit after an ambiguous failure (lost response, SDK retry)', async () => {
    class FlakyStore extends EpisodeStore {
      mode: 'none' | 'network' | 'retried-conflict' = 'none';
      override async commit(prepared: PreparedEpisode, expectedVersion: number): Promise<void> {
        await super.commit(prepared, expectedVersion);
        const mode = this.mode;
        this.mode = 'none';
        if (mode === 'network') throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        // What the SDK reports when it retries a write that had succeeded.
        if (mode === 'retried-conflict') throw new StorageError('conflict', 'retried write lost its condition');
      }
    }
    const flaky = new FlakyStore(runtime.clients.documents, { tableName: runtime.config.tableName, retentionSeconds: 3600 });
    const { service } = makeService({ episodes: flaky });
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
    flaky.mode = 'network';
    expect(await service.step({ tenant: 'tenant-a', episodeId, call: run(1) })).toMatchObject({ version: 2, error: null });
    flaky.mode = 'retried-conflict';
    expect(await service.step({ tenant: 'tenant-a', episodeId, call: run(1), requestId: 'x' })).toMatchObject({ version: 3, replayed: false });
    const item = await runtime.episodes.get('tenant-a', episodeId);
    expect(item).toMatchObject({ version: 3, usage: { epochs_trained: 2 } });
    expect(await checkpointKeys('tenant-a', episodeId)).toEqual([item!.checkpoint!.key]);
  });

  it('a step whose checkpoint a competing commit superseded before it was fetched is a conflict', async () => {
    const { service: racer } = makeService();
    class RacingBlobs extends BlobStore {
      armed = false;
      override async getCheckpoint(pointer: CheckpointPointer): Promise<Uint8Array> {
        if (this.armed) {
          this.armed = false;
          // Another writer commits the next version and deletes this checkpoint as superseded.
          await racer.step({ tenant: 'tenant-a', episodeId, call: run(1) });
        }
        return super.getCheckpoint(pointer);
      }
    }
    const racing = new RacingBlobs(runtime.clients.s3, runtime.config.checkpointBucket);
    // Only once the victim's lease has lapsed can another step run meanwhile (single flight): a 1 ms lease,
    // never renewed (a stalled executor; a renewal would find it lapsed and fail the step itself).
    const stalled: LeaseTimer = { every: () => () => undefined };
    const { service: victim, trainers } = makeService({ checkpoints: racing, leaseMs: 1, leaseTimer: stalled });
    const episodeId = (await victim.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' })).episode_id;
    await victim.step({ tenant: 'tenant-a', episodeId, call: configure() });
    racing.armed = true;
    const error = await serviceError(victim.step({ tenant: 'tenant-a', episodeId, call: run(2) }));
    expect(error).toMatchObject({ code: 'conflict', details: { expected_version: 1, current_version: 2 } });
    expect(trainers.counts.live).toBe(0);
    expect(await victim.step({ tenant: 'tenant-a', episodeId, call: run(2) })).toMatchObject({ version: 3, error: null });
  });

  it('replays the final step after the end; a new request on an ended episode is not stored', async () => {
    const { service } = makeService();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
    const submitted = await service.step({ tenant: 'tenant-a', episodeId, call: submitCall, requestId: 'submit-1' });
    expect(submitted).toMatchObject({ done: true, grade: { score: expect.any(Number) } });
    expect(await service.step({ tenant: 'tenant-a', episodeId, call: submitCall, requestId: 'submit-1' })).toEqual({ ...submitted, replayed: true });
    const over = await service.step({ tenant: 'tenant-a', episodeId, call: run(1), requestId: 'late' });
    expect(over).toMatchObject({ error: { code: 'episode_over' }, version: 2 });
    expect((await runtime.episodes.get('tenant-a', episodeId))!.results).not.toHaveProperty('late');
  });

  it('sweeps checkpoint objects the item does not point to', async () => {
    const { service } = makeService();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
    const orphan = `${checkpointPrefix('tenant-a', episodeId)}${'0'.repeat(64)}.dead-writer.bin`;
    await runtime.checkpoints.put(orphan, new Uint8Array([1]));
    expect((await service.sweepCheckpoints('tenant-a', episodeId)).deleted).toEqual([]); // too young by default
    const current = (await runtime.episodes.get('tenant-a', episodeId))!.checkpoint!.key;
    expect((await service.sweepCheckpoints('tenant-a', episodeId, { minAgeSeconds: 0 })).deleted).toEqual([orphan]);
    expect(await checkpointKeys('tenant-a', episodeId)).toEqual([current]);
  });

  it('sweeps by the age of the objects: minAgeSeconds over the default, objects of an episode without a checkpoint or gone, and of unknown age only at 0', async () => {
    const HOUR_MS = 3_600_000;
    /** The bucket as seen two hours later (the objects two hours old), or with no age on the objects. */
    class AgedBlobs extends BlobStore {
      age: 'two-hours' | 'unknown' = 'two-hours';
      override async list(prefix: string, options?: { limit?: number; cursor?: string | null }): Promise<BlobListing> {
        const page = await super.list(prefix, options);
        const lastModified = (o: BlobListing['items'][number]) => (this.age === 'unknown' ? undefined : new Date(o.lastModified!.getTime() - 2 * HOUR_MS));
        return { ...page, items: page.items.map((o) => ({ ...o, lastModified: lastModified(o) })) };
      }
    }
    const aged = new AgedBlobs(runtime.clients.s3, runtime.config.checkpointBucket);
    const { service } = makeService({ checkpoints: aged });
    const orphanOf = (episodeId: string, writer: string) => `${checkpointPrefix('tenant-a', episodeId)}${'0'.repeat(64)}.${writer}.bin`;

    // An episode before its first step points to no checkpoint: everything old enough under it goes.
    const { episode_id: fresh } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await runtime.checkpoints.put(orphanOf(fresh, 'early'), new Uint8Array([1]));
    expect((await service.sweepCheckpoints('tenant-a', fresh, { minAgeSeconds: 3 * 3600 })).deleted).toEqual([]);
    expect(await checkpointKeys('tenant-a', fresh)).toEqual([orphanOf(fresh, 'early')]);
    expect((await service.sweepCheckpoints('tenant-a', fresh)).deleted).toEqual([orphanOf(fresh, 'early')]);
    expect(await checkpointKeys('tenant-a', fresh)).toEqual([]);

    // An episode that no longer exists loses all its old checkpoints.
    const gone = `gone-${Math.random().toString(36).slice(2, 8)}`;
    await runtime.checkpoints.put(orphanOf(gone, 'w'), new Uint8Array([1]));
    expect((await service.sweepCheckpoints('tenant-a', gone)).deleted).toEqual([orphanOf(gone, 'w')]);

    // An object of unknown age is kept by an age limit, and swept at 0 like any unreferenced object.
    await runtime.checkpoints.put(orphanOf(fresh, 'ageless'), new Uint8Array([1]));
    aged.age = 'unknown';
    expect((await service.sweepCheckpoints('tenant-a', fresh, { minAgeSeconds: 1 })).deleted).toEqual([]);
    expect((await service.sweepCheckpoints('tenant-a', fresh, { minAgeSeconds: 0 })).deleted).toEqual([orphanOf(fresh, 'ageless')]);

    // An id that cannot name an episode has no checkpoints to sweep.
    expect(await service.sweepCheckpoints('tenant-a', 'not/an-id', { minAgeSeconds: 0 })).toEqual({ deleted: [] });
  });

  it('logs, and does not report, a failure to release the lease of a failed step', async () => {
    const warnings: [string, Record<string, unknown> | undefined][] = [];
    const episodes = new Proxy(runtime.episodes, {
      get(target, name, receiver) {
        if (name === 'releaseLease') return () => Promise.reject(new Error('table unavailable'));
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { service, trainers } = makeService({ episodes, warn: (message, fields) => warnings.push([message, fields]) });
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
    await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
    trainers.failAtEpochCall(1);
    await expect(service.step({ tenant: 'tenant-a', episodeId, call: run(1) })).rejects.toThrow(/simulated trainer fault/);
    expect(warnings).toContainEqual([
      'Could not release the lease of a failed step; it lapses at its expiry',
      { episode_id: episodeId, error: 'Error: table unavailable' },
    ]);
    await runtime.episodes.releaseLease('tenant-a', episodeId, (await runtime.episodes.readLease('tenant-a', episodeId))!.lease!.holder);
  });

  describe('storage round trips of a step', () => {
    /** The real store, logging the calls the service makes on it (in order). */
    function loggingStore() {
      const calls: string[] = [];
      const episodes = new Proxy(runtime.episodes, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (['get', 'getWithLease', 'readLease', 'commit', 'acquireLease'].includes(String(name))) calls.push(String(name));
            return value.apply(target, args);
          };
        },
      });
      return { episodes, calls };
    }
    const untilLease = (calls: string[]) => calls.slice(0, calls.indexOf('acquireLease') + 1);

    it('a trainer call claims the lease on the one read it planned from', async () => {
      const { episodes, calls } = loggingStore();
      const { service } = makeService({ episodes });
      const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
      await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
      calls.length = 0;
      expect(await service.step({ tenant: 'tenant-a', episodeId, call: run(1) })).toMatchObject({ version: 2, error: null });
      expect(untilLease(calls)).toEqual(['getWithLease', 'acquireLease']);
    });

    it('a call that touches no trainer, read under a live lease, tries no commit of its own and is refused on that read', async () => {
      const { episodes, calls } = loggingStore();
      const { service } = makeService({ episodes });
      const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
      await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
      await runtime.episodes.acquireLease('tenant-a', episodeId, 1, { holder: 'trainer', request_id: null, call_sha256: 'x' }, 30_000);
      calls.length = 0;
      await expect(service.step({ tenant: 'tenant-a', episodeId, call: status })).rejects.toMatchObject({ code: 'episode_busy' });
      expect(calls).toEqual(['getWithLease', 'acquireLease']);
      await runtime.episodes.releaseLease('tenant-a', episodeId, 'trainer');
    });

    it("with the caller's plan, a call that touches no trainer commits at once; a plan gone stale is planned afresh and claimed once", async () => {
      const { episodes, calls } = loggingStore();
      const { service } = makeService({ episodes });
      const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' });
      await service.step({ tenant: 'tenant-a', episodeId, call: configure() });
      const request = { tenant: 'tenant-a', episodeId, call: status };
      calls.length = 0;
      expect(await service.step(request, await planStep(runtime.episodes, request))).toMatchObject({ version: 2, error: null });
      expect(calls).toEqual(['commit']);

      const stale = await planStep(runtime.episodes, request);
      await service.step(request);
      calls.length = 0;
      expect(await service.step(request, stale)).toMatchObject({ version: 4, error: null });
      // The refused commit, its read-back, a fresh plan, and one claim at the current version.
      expect(untilLease(calls)).toEqual(['commit', 'get', 'get', 'acquireLease']);
      expect(calls.filter((c) => c === 'acquireLease')).toHaveLength(1);
    });
  });
});
