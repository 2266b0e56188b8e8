import { callSha256 } from '../../layers/episodes/src/call-identity';
import { EpisodeServiceError, type StepView } from '../../layers/episodes/src/episode-service';
import type { LeaseTimer } from '../../layers/episodes/src/lease-heartbeat';
import { stepInSingleFlight, waitForLeaseEnd } from '../../layers/episodes/src/single-flight';
import { planStep, type PlannedStep, type StepPlan } from '../../layers/episodes/src/step-plan';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import type { EpisodeLease, EpisodeLeaseState, EpisodeStore } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, run, status } from './helpers';

/** What stepInSingleFlight does with each answer to its claim on the episode, through a real store. */

const TENANT = 'tenant-claims';

let runtime: LocalRuntime;
let service: StoredEpisodeService;
beforeAll(async () => {
  runtime = await testRuntime();
  service = new StoredEpisodeService({
    episodes: runtime.episodes,
    checkpoints: runtime.checkpoints,
    trainers: instrumentedFactory(),
    clock: steppingClock(),
    newId: sequentialIds(`cl${Math.random().toString(36).slice(2, 8)}`),
  });
});
afterAll(async () => {
  await runtime?.close();
});

const quietTimer: LeaseTimer = { every: () => () => undefined };
const options = { newHolder: () => 'holder-test', leaseMs: 30_000, leaseTimer: quietTimer, logger: { warn: () => undefined } };

/** Records the planned steps it is asked to execute; answers a placeholder view. */
function recordingExecute() {
  const executed: PlannedStep[] = [];
  const execute = async (planned: PlannedStep) => {
    executed.push(planned);
    return { executed: true } as unknown as StepView;
  };
  return { executed, execute };
}

async function configuredEpisode(): Promise<string> {
  const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
  await service.step({ tenant: TENANT, episodeId, call: configure({ learning_rate: 0.0005 }) });
  return episodeId;
}

async function executePlan(request: Parameters<typeof planStep>[1]): Promise<StepPlan & { kind: 'execute' }> {
  const plan = await planStep(runtime.episodes, request);
  if (plan.kind !== 'execute') throw new Error('expected a plan to execute');
  return plan;
}

/** The real store with some of its answers replaced. */
function storeWith(overrides: Partial<Pick<EpisodeStore, 'acquireLease' | 'readLease' | 'get'>>): EpisodeStore {
  return new Proxy(runtime.episodes, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof typeof overrides];
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function rejection(promise: Promise<unknown>): Promise<EpisodeServiceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EpisodeServiceError);
    return error as EpisodeServiceError;
  }
  throw new Error('expected a refusal');
}

describe('stepInSingleFlight claims', () => {
  it("uses the caller's plan for the first claim without reading the episode again", async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1), requestId: 'planned-once' };
    const plan = await executePlan(request);
    const reads: string[] = [];
    const store = storeWith({ get: (async (tenant: string, id: string) => (reads.push(id), runtime.episodes.get(tenant, id))) as EpisodeStore['get'] });
    const { executed, execute } = recordingExecute();
    await stepInSingleFlight(store, request, options, execute, plan);
    expect(reads).toEqual([]);
    expect(executed).toEqual([plan.step]);
  });

  it('a claim on an episode deleted since it was planned is not_found', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1), requestId: 'too-late' };
    const plan = await executePlan(request);
    await runtime.episodes.delete(TENANT, episodeId);
    const { executed, execute } = recordingExecute();
    const error = await rejection(stepInSingleFlight(runtime.episodes, request, options, execute, plan));
    expect(error).toMatchObject({ code: 'not_found', details: { episode_id: episodeId } });
    expect(executed).toEqual([]);
  });

  it('a plan of a version the episode has moved past is made again, and executes on the current version', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1), requestId: 'stale' };
    const stale = await executePlan(request);
    await service.step({ tenant: TENANT, episodeId, call: status });
    const { executed, execute } = recordingExecute();
    await stepInSingleFlight(runtime.episodes, request, options, execute, stale);
    expect(executed.map((p) => p.episode.version)).toEqual([stale.step.episode.version + 1]);
  });

  it('a claim refused by a lease that ended before the refusal was read plans again and executes', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1), requestId: 'raced' };
    const plan = await executePlan(request);
    let refusals = 0;
    const store = storeWith({
      acquireLease: (async (...args: Parameters<EpisodeStore['acquireLease']>) => {
        if (refusals++ === 0) return { refused: { version: plan.step.episode.version, lease: null } };
        return runtime.episodes.acquireLease(...args);
      }) as EpisodeStore['acquireLease'],
    });
    const { executed, execute } = recordingExecute();
    await stepInSingleFlight(store, request, options, execute, plan);
    expect(executed.map((p) => p.episode.version)).toEqual([plan.step.episode.version]);
  });

  it('a retry whose plan predates its own commit gets the stored result even while another step holds the episode', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1), requestId: 'retried' };
    const stale = await executePlan(request);
    const committed = await service.step(request);
    const other = await runtime.episodes.acquireLease(TENANT, episodeId, committed.version, { holder: 'other', request_id: 'other', call_sha256: callSha256(status) }, 30_000);
    expect(other).toHaveProperty('acquired');
    const { executed, execute } = recordingExecute();
    expect(await stepInSingleFlight(runtime.episodes, request, options, execute, stale)).toEqual({ ...committed, replayed: true });
    expect(executed).toEqual([]);
  });

  it('another step executing: episode_busy, saying nothing ran, with when its lease expires', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1), requestId: 'second' };
    const plan = await executePlan(request);
    const other = await runtime.episodes.acquireLease(TENANT, episodeId, plan.step.episode.version, { holder: 'other', request_id: 'first', call_sha256: callSha256(run(1)) }, 30_000);
    const lease = (other as { acquired: EpisodeLease }).acquired;
    const error = await rejection(stepInSingleFlight(runtime.episodes, request, options, recordingExecute().execute, plan));
    expect(error.code).toBe('episode_busy');
    expect(error.message).toBe(`Episode ${episodeId} is executing another step; nothing ran. Send this call again once that step has committed.`);
    expect(error.details).toEqual({ episode_id: episodeId, lease_expires_at: lease.expires_at });
  });

  it('its request_id executing with another call: a request_id conflict', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(2), requestId: 'reused' };
    const plan = await executePlan(request);
    await runtime.episodes.acquireLease(TENANT, episodeId, plan.step.episode.version, { holder: 'other', request_id: 'reused', call_sha256: callSha256(run(1)) }, 30_000);
    const error = await rejection(stepInSingleFlight(runtime.episodes, request, options, recordingExecute().execute, plan));
    expect(error.code).toBe('conflict');
    expect(error.message).toBe(
      'request_id "reused" is already used by another call that is executing on this episode; a new call needs a new request_id.',
    );
    expect(error.details).toEqual({ field: 'request_id' });
  });
});

describe('stepInSingleFlight gives up with in_progress', () => {
  it('when its duplicate keeps holding the lease past its expiry by our clock (a store whose clock is stuck)', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1), requestId: 'stuck' };
    const plan = await executePlan(request);
    const version = plan.step.episode.version;
    const lease: EpisodeLease = { holder: 'stuck', request_id: 'stuck', call_sha256: plan.step.callHash, expires_at: new Date(Date.now() - 1000).toISOString() };
    const state: EpisodeLeaseState = { version, lease };
    const store = storeWith({
      acquireLease: (async () => ({ refused: state })) as EpisodeStore['acquireLease'],
      readLease: (async () => state) as EpisodeStore['readLease'],
    });
    const error = await rejection(stepInSingleFlight(store, request, options, recordingExecute().execute, plan));
    expect(error.code).toBe('in_progress');
    expect(error.message).toBe(`This step of episode ${episodeId} is still executing; send it again shortly (the same request_id is safe).`);
    expect(error.details).toStrictEqual({ episode_id: episodeId, step_id: 'stuck' });
  });

  it('when every claim finds the episode moved on (a call without request_id names no step)', async () => {
    const episodeId = await configuredEpisode();
    const request = { tenant: TENANT, episodeId, call: run(1) };
    let claims = 0;
    const store = storeWith({
      acquireLease: (async (_tenant: string, _id: string, version: number) => {
        claims++;
        return { refused: { version: version + 1, lease: null } };
      }) as EpisodeStore['acquireLease'],
    });
    const { executed, execute } = recordingExecute();
    const error = await rejection(stepInSingleFlight(store, request, options, execute));
    expect(error.code).toBe('in_progress');
    expect(error.details).toStrictEqual({ episode_id: episodeId });
    expect(claims).toBe(20);
    expect(executed).toEqual([]);
  });
});

describe('waitForLeaseEnd', () => {
  it('after renewals stop, gives up by the renewed expiry, not later', async () => {
    const start = Date.now() + 100;
    const lease = (expiresAt: number): EpisodeLease => ({ holder: 'h', request_id: 'r', call_sha256: 'c'.repeat(64), expires_at: new Date(expiresAt).toISOString() });
    const planned = { episode: { tenant: TENANT, episode_id: 'ep', version: 1 } } as unknown as PlannedStep;
    // Renewed once by 200 ms, then never again (the holder died); the store keeps reporting it.
    const store = { readLease: async (): Promise<EpisodeLeaseState> => ({ version: 1, lease: lease(start + 200) }) };
    const began = Date.now();
    expect(await waitForLeaseEnd(store, planned, lease(start))).toBe(false);
    expect(Date.now() - began).toBeLessThan(5000);
  }, 10_000);
});
