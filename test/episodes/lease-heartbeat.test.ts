import type { TrainerFactory } from '../../layers/core/src';
import { callSha256 } from '../../layers/episodes/src/call-identity';
import { EpisodeServiceError, type StepView } from '../../layers/episodes/src/episode-service';
import { DEFAULT_STEP_LEASE_MS, LEASE_RENEWALS_PER_DURATION, type LeaseTimer } from '../../layers/episodes/src/lease-heartbeat';
import { waitForLeaseEnd } from '../../layers/episodes/src/single-flight';
import type { PlannedStep } from '../../layers/episodes/src/step-plan';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { checkpointPrefix, type EpisodeLease, type EpisodeLeaseState } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, gatedFactory, instrumentedFactory, run } from './helpers';

const TENANT = 'tenant-hb';
/** The store's clock: it moves only when a test advances it (lease expiries are by this clock). */
const storeClock = steppingClock(new Date().toISOString(), 0);

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime({ storage: { clock: storeClock } });
});
afterAll(async () => {
  await runtime?.close();
});

/** A lease timer the test beats by hand: renewals happen exactly when the test says. */
function manualTimer() {
  let beat: (() => Promise<void>) | null = null;
  const intervals: number[] = [];
  const timer: LeaseTimer = {
    every(ms, onBeat) {
      intervals.push(ms);
      beat = onBeat;
      return () => {
        beat = null;
      };
    },
  };
  return {
    timer,
    intervals,
    /** One renewal of the running heartbeat, awaited. */
    beat: () => (beat ? beat() : Promise.resolve()),
    get running() {
      return beat !== null;
    },
  };
}

function setup(trainers: TrainerFactory, timer?: LeaseTimer) {
  const warnings: string[] = [];
  const counted = instrumentedFactory(trainers);
  const service = new StoredEpisodeService({
    episodes: runtime.episodes,
    checkpoints: runtime.checkpoints,
    trainers: counted,
    clock: steppingClock(),
    newId: sequentialIds(`hb${Math.random().toString(36).slice(2, 8)}`),
    logger: { warn: (message: string) => void warnings.push(message) },
    ...(timer ? { leaseTimer: timer } : {}),
  });
  return { service, trainers: counted, warnings };
}

async function configuredEpisode(service: StoredEpisodeService): Promise<string> {
  const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
  await service.step({ tenant: TENANT, episodeId, call: configure({ learning_rate: 0.0005 }) });
  return episodeId;
}

/** Resolves once a step holds the episode's lease. */
async function leaseTaken(episodeId: string): Promise<EpisodeLease> {
  for (;;) {
    const lease = (await runtime.episodes.readLease(TENANT, episodeId))?.lease;
    if (lease) return lease;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function tracked<T>(promise: Promise<T>) {
  const state: { settled: boolean; outcome?: { value: T } | { error: unknown } } = { settled: false };
  const done = promise.then(
    (value) => (state.outcome = { value }),
    (error: unknown) => (state.outcome = { error }),
  );
  void done.finally(() => (state.settled = true));
  return Object.assign(state, { done: done.then(() => state.outcome!) });
}

const codeOf = (error: unknown) => (error instanceof EpisodeServiceError ? error.code : String(error));

describe('the lease of an executing step is renewed while it runs (heartbeat)', () => {
  it('a step training for several lease durations keeps its lease: other calls stay busy, a duplicate waits and gets its result', async () => {
    const gated = gatedFactory();
    const hand = manualTimer();
    const { service, trainers } = setup(gated.factory, hand.timer);
    const episodeId = await configuredEpisode(service);
    const built = trainers.counts.create + trainers.counts.restore;
    const first = tracked(service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'long-run' }));
    const held = await leaseTaken(episodeId);
    // Every executing step (the configure before it too) renews every third of the lease.
    expect(new Set(hand.intervals)).toEqual(new Set([DEFAULT_STEP_LEASE_MS / LEASE_RENEWALS_PER_DURATION]));
    const duplicate = tracked(service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'long-run' }));

    // Four lease durations by the store's clock, renewed every two thirds of one.
    for (let beat = 1; beat <= 6; beat++) {
      storeClock.advance(20_000);
      await hand.beat();
      const state = await runtime.episodes.readLease(TENANT, episodeId);
      expect(state).toEqual({ version: 1, lease: { ...held, expires_at: new Date(storeClock().getTime() + DEFAULT_STEP_LEASE_MS).toISOString() } });
      await expect(service.step({ tenant: TENANT, episodeId, call: run(1), requestId: `other-${beat}` })).rejects.toMatchObject({ code: 'episode_busy' });
    }
    expect(first.settled).toBe(false);
    expect(duplicate.settled).toBe(false);
    // At most its first epoch started, held at the gate.
    expect(trainers.counts.trainEpoch).toBeLessThanOrEqual(1);

    gated.open();
    const done = await first.done;
    expect(done).toEqual({ value: expect.objectContaining({ version: 2, error: null, replayed: false }) });
    const view = (done as { value: StepView }).value;
    expect(await duplicate.done).toEqual({ value: { ...view, replayed: true } });
    expect(trainers.counts.create + trainers.counts.restore - built).toBe(1);
    expect(trainers.counts.trainEpoch).toBe(2);
    // The commit replaced the item without the lease, and the heartbeat stopped with the step.
    expect(await runtime.episodes.readLease(TENANT, episodeId)).toEqual({ version: 2, lease: null });
    expect(hand.running).toBe(false);
  });

  it('a step that lost its lease (lapsed, then taken by another) stops renewing and does not commit', async () => {
    const gated = gatedFactory();
    const hand = manualTimer();
    const { service, trainers, warnings } = setup(gated.factory, hand.timer);
    const episodeId = await configuredEpisode(service);
    const before = await runtime.episodes.get(TENANT, episodeId);
    const late = tracked(service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'late' }));
    await leaseTaken(episodeId);

    // No renewal in time (a stalled executor): the lease lapses and another step takes it at the same version.
    storeClock.advance(DEFAULT_STEP_LEASE_MS);
    const rival = await runtime.episodes.acquireLease(TENANT, episodeId, 1, { holder: 'rival', request_id: 'rival', call_sha256: callSha256(run(1)) }, DEFAULT_STEP_LEASE_MS);
    expect(rival).toHaveProperty('acquired');
    await hand.beat();
    expect(hand.running).toBe(false);

    // The late step finishes training but commits nothing: the version alone would have let it in (the rival has not committed).
    gated.open();
    const outcome = await late.done;
    expect('error' in outcome && codeOf(outcome.error)).toBe('conflict');
    expect((outcome as { error: EpisodeServiceError }).error.details).toMatchObject({ episode_id: episodeId, reason: 'lease_lost' });
    expect(warnings).toEqual([expect.stringContaining('lost its lease')]);
    expect(trainers.counts.trainEpoch).toBe(2);
    expect(trainers.counts.live).toBe(0);
    expect(await runtime.episodes.get(TENANT, episodeId)).toEqual(before);
    const state = await runtime.episodes.readLease(TENANT, episodeId);
    expect(state).toEqual({ version: 1, lease: (rival as { acquired: EpisodeLease }).acquired });
    const keys = (await runtime.checkpoints.listAll(checkpointPrefix(TENANT, episodeId))).map((o) => o.key);
    expect(keys).toEqual([before!.checkpoint!.key]);
  });

  it('a lapsed step whose rival committed first, before any renewal noticed, loses at the commit on the version', async () => {
    const gated = gatedFactory();
    const hand = manualTimer();
    const { service } = setup(gated.factory, hand.timer);
    const { service: rivalService } = setup(instrumentedFactory());
    const episodeId = await configuredEpisode(service);
    const late = tracked(service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'late' }));
    await leaseTaken(episodeId);
    storeClock.advance(DEFAULT_STEP_LEASE_MS);
    const committed = await rivalService.step({ tenant: TENANT, episodeId, call: run(1), requestId: 'rival' });
    expect(committed).toMatchObject({ version: 2, replayed: false });
    const after = await runtime.episodes.get(TENANT, episodeId);

    gated.open();
    const outcome = await late.done;
    expect('error' in outcome && codeOf(outcome.error)).toBe('conflict');
    expect((outcome as { error: EpisodeServiceError }).error.details).toMatchObject({ expected_version: 1, current_version: 2 });
    // The rival's commit stands, and the late step's upload is gone.
    expect(await runtime.episodes.get(TENANT, episodeId)).toEqual(after);
    const keys = (await runtime.checkpoints.listAll(checkpointPrefix(TENANT, episodeId))).map((o) => o.key);
    expect(keys).toEqual([after!.checkpoint!.key]);
  });
});

describe('a duplicate waiting for an executing step (waitForLeaseEnd)', () => {
  const lease = (expiresAt: number): EpisodeLease => ({ holder: 'h', request_id: 'r', call_sha256: 'c'.repeat(64), expires_at: new Date(expiresAt).toISOString() });
  const planned = { episode: { tenant: TENANT, episode_id: 'ep', version: 1 } } as unknown as PlannedStep;

  /** A store whose lease is renewed by `renewMs` at every read, `reads` times, then released. */
  function renewingStore(start: number, renewMs: number, reads: number) {
    let n = 0;
    return {
      reads: () => n,
      readLease: async (): Promise<EpisodeLeaseState> => {
        n++;
        return { version: 1, lease: n > reads ? null : lease(start + n * renewMs) };
      },
    };
  }

  it('keeps waiting while the holder renews, past the first expiry, and ends when the lease goes', async () => {
    const start = Date.now() + 100;
    const store = renewingStore(start, 5_000, 6);
    expect(await waitForLeaseEnd(store, planned, lease(start))).toBe(true);
    expect(store.reads()).toBe(7);
  });

  it('gives up once renewals stop and the lease would have lapsed (the store still reporting it)', async () => {
    const start = Date.now() + 100;
    const store = renewingStore(start, 0, Number.POSITIVE_INFINITY);
    expect(await waitForLeaseEnd(store, planned, lease(start))).toBe(false);
  });
});
