import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { gatedFactory, startCloud, type Cloud } from '../functions/helpers';
import { AgentEnvironmentError, baselinePolicy, InProcessEnvironment, playEpisode, RestEnvironment, type PendingInfo } from '../../layers/agent/src';
import { FakeRestServer } from './helpers/fake-rest-server';

/**
 * Steps the server runs asynchronously (the cloud API, functions/README.md "Polling"): the
 * POST answers 202 {step_id, status, poll, requested_at, deadline_at}; the client polls the
 * poll path (202 while pending or running) until 200 with the step, or an error.
 */

/** The fake clocks start now: the fake server's deadlines are an hour from its own clock. */
const START = Date.now();

/** A clock that only sleeping moves, and the sleeps it saw. */
function fakeTime() {
  let t = START;
  const delays: number[] = [];
  return {
    delays,
    now: () => t,
    sleep: async (ms: number) => {
      delays.push(ms);
      t += ms;
    },
  };
}

const STEP_FAILED = {
  status: 500,
  body: {
    error: {
      code: 'step_failed',
      message: 'The run_epochs step failed in the training function and was not committed; send it again (the same request_id may be reused).',
      details: { step_id: 'req-2', status: 'failed', reason: 'internal' },
    },
  },
};

describe('the REST client and asynchronous steps', () => {
  let server: FakeRestServer;
  let url: string;

  beforeEach(async () => {
    server = new FakeRestServer();
    url = await server.start();
  });
  afterEach(() => server.stop());

  const ids = () => {
    let n = 0;
    return () => `req-${++n}`;
  };

  it('polls a 202 step transparently, waiting what Retry-After says, and returns the step', async () => {
    const time = fakeTime();
    const pending: PendingInfo[] = [];
    const environment = new RestEnvironment({ url, apiKey: 'k-1', ...time, newRequestId: ids(), onPending: (p) => pending.push(p) });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    await session.call('configure_training', {});
    server.asyncSteps = { tool: /^run_epochs$/, pendingPolls: 2, retryAfter: '5' };
    const outcome = await session.call('run_epochs', { num_epochs: 4 });

    expect(outcome).toMatchObject({ step: 2, tool: 'run_epochs', error: null, done: false, replayed: false });
    expect(outcome.data.epochs_just_trained).toBe(4);
    expect(server.executed).toBe(2);
    const poll = '/v1/episodes/ep-1/steps/req-2';
    expect(server.requests.slice(-4).map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/v1/episodes/ep-1/steps', 202],
      ['GET', poll, 202],
      ['GET', poll, 202],
      ['GET', poll, 200],
    ]);
    expect(server.requests.every((r) => r.headers['x-api-key'] === 'k-1')).toBe(true);
    expect(time.delays).toEqual([5000, 5000, 5000]);
    expect(pending).toEqual([
      { step: 2, tool: 'run_epochs', step_id: 'req-2', status: 'pending', elapsedMs: 0, deadline_at: expect.any(String), poll },
      { step: 2, tool: 'run_epochs', step_id: 'req-2', status: 'running', elapsedMs: 5000, deadline_at: expect.any(String), poll },
      { step: 2, tool: 'run_epochs', step_id: 'req-2', status: 'running', elapsedMs: 10000, deadline_at: expect.any(String), poll },
    ]);
    // The next call goes on as usual.
    expect(await session.call('get_training_status')).toMatchObject({ step: 3, error: null });
  });

  it('without Retry-After, polls with a growing interval up to the maximum', async () => {
    const time = fakeTime();
    const environment = new RestEnvironment({ url, ...time, pollIntervalMs: 100, maxPollIntervalMs: 300 });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    server.asyncSteps = { tool: /./, pendingPolls: 4 };
    expect(await session.call('configure_training', {})).toMatchObject({ step: 1, error: null });
    expect(time.delays).toHaveLength(5);
    const [a, b, c, d, e] = time.delays as [number, number, number, number, number];
    expect(a).toBeGreaterThanOrEqual(100);
    expect(a).toBeLessThanOrEqual(125);
    expect(b).toBeGreaterThanOrEqual(200);
    expect(b).toBeLessThanOrEqual(250);
    for (const later of [c, d, e]) expect(later).toBe(300);
  });

  it('reports a step that failed on the server after its 202 with an error naming the step, without polling again', async () => {
    const time = fakeTime();
    const environment = new RestEnvironment({ url, ...time, newRequestId: ids() });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    await session.call('configure_training', {});
    server.asyncSteps = { tool: /^run_epochs$/, pendingPolls: 1, retryAfter: '5', fail: STEP_FAILED };
    const error = await session.call('run_epochs', { num_epochs: 4 }).catch((e) => e);

    expect(error).toBeInstanceOf(AgentEnvironmentError);
    expect(error).toMatchObject({ code: 'unavailable', info: { status: 500, errorCode: 'step_failed', details: { step_id: 'req-2', reason: 'internal' } } });
    expect(error.message).toBe(
      'step 2 run_epochs (step_id req-2) failed on the server (internal): GET /v1/episodes/ep-1/steps/req-2: HTTP 500 step_failed: ' +
        'The run_epochs step failed in the training function and was not committed; send it again (the same request_id may be reused).',
    );
    expect(server.requests.filter((r) => r.method === 'GET' && r.path.includes('/steps/')).map((r) => r.status)).toEqual([202, 500]);
    expect(server.executed).toBe(1); // nothing of the failed step ran
  });

  it('stops polling at the step deadline plus the margin', async () => {
    const time = fakeTime();
    const environment = new RestEnvironment({ url, ...time, newRequestId: ids(), pollDeadlineMarginMs: 2000 });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    server.asyncSteps = { tool: /./, pendingPolls: 1000, retryAfter: '5', deadlineAt: new Date(START + 10_000).toISOString() };
    const error = await session.call('configure_training', {}).catch((e) => e);
    expect(error).toBeInstanceOf(AgentEnvironmentError);
    expect(error.code).toBe('unavailable');
    expect(error.message).toBe(
      `step 1 configure_training (step_id req-1): no result after 12 s (running on the server, deadline ${new Date(START + 10_000).toISOString()}); ` +
        'gave up polling /v1/episodes/ep-1/steps/req-1. The step may still complete on the server.',
    );
    // Polls at 5 s, 10 s and, shortened to the limit, 12 s.
    expect(time.delays).toEqual([5000, 5000, 2000]);
  });

  it('stops polling after the overall timeout when the deadline is later', async () => {
    const time = fakeTime();
    const environment = new RestEnvironment({ url, ...time, newRequestId: ids(), asyncStepTimeoutMs: 7000 });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    server.asyncSteps = { tool: /./, pendingPolls: 1000, retryAfter: '5', deadlineAt: new Date(START + 3_600_000).toISOString() };
    const error = await session.call('configure_training', {}).catch((e) => e);
    expect(error.message).toMatch(/^step 1 configure_training \(step_id req-1\): no result after 7 s/);
    expect(time.delays).toEqual([5000, 2000]);
  });

  it('plays a whole episode whose training steps run asynchronously, with the in-process outcome', async () => {
    server.asyncSteps = { tool: /^run_epochs$/, pendingPolls: 1, retryAfter: '0' };
    const remote = await playEpisode({ environment: new RestEnvironment({ url }), policy: baselinePolicy(), taskId: 'medium_fashion' });
    const local = await playEpisode({ environment: new InProcessEnvironment(formulaTrainerFactory), policy: baselinePolicy(), taskId: 'medium_fashion' });
    expect(remote.grade).toEqual(local.grade);
    expect(remote.history.map((s) => s.call)).toEqual(local.history.map((s) => s.call));
    expect(server.requests.some((r) => r.status === 202)).toBe(true);
  });
});

describe('the REST client against the real cloud api handler (202 → poll → 200)', () => {
  // Steps run in the training handler in-process (formula trainer); the api answers through API Gateway events.
  let runtime: LocalRuntime;
  let cloud: Cloud;
  let failing: Cloud;
  const gate = gatedFactory();
  const bridges: { close: () => Promise<void> }[] = [];
  const statuses: number[] = [];

  /** The api handler behind a loopback HTTP server, as API Gateway puts it (x-api-key → the key's id). */
  async function serve(target: Cloud): Promise<string> {
    const server = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        const u = new URL(req.url ?? '/', 'http://bridge');
        const key = req.headers['x-api-key'];
        const answer = await target.api(req.method ?? 'GET', u.pathname, {
          ...(text === '' ? {} : { body: text }),
          apiKeyId: typeof key === 'string' ? key : null,
          query: Object.fromEntries(u.searchParams),
        });
        statuses.push(answer.status);
        const headers = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => ['content-type', 'location', 'retry-after'].includes(k.toLowerCase())));
        res.writeHead(answer.status, headers);
        res.end(answer.raw.body ?? '');
      })().catch((error: unknown) => {
        res.writeHead(599);
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    bridges.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const quickSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 20)));
  // 1 s per step + 1 s per epoch: every run_epochs is above the 1.5 s budget and runs asynchronously.
  const apiEnv = { SYNC_STEP_BUDGET_MS: '1500', STEP_SECONDS_PER_EPOCH: 'easy_mnist=1', STEP_OVERHEAD_MS: '1000', STEP_DATA_LOAD_MS: '0' };

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    cloud = await startCloud({ runtime, apiEnv });
    failing = await startCloud({ runtime, apiEnv, trainers: gate.factory });
    gate.open();
  });
  afterAll(async () => {
    for (const b of bridges) await b.close();
    await cloud?.close();
    await failing?.close();
    await runtime?.close();
  });

  it('plays a baseline episode whose training steps answer 202, with the in-process outcome', async () => {
    const url = await serve(cloud);
    const pending: PendingInfo[] = [];
    const environment = new RestEnvironment({ url, apiKey: 'tenant-rest', sleep: quickSleep, onPending: (p) => pending.push(p) });
    const remote = await playEpisode({ environment, policy: baselinePolicy(), taskId: 'easy_mnist' });
    const local = await playEpisode({ environment: new InProcessEnvironment(formulaTrainerFactory), policy: baselinePolicy(), taskId: 'easy_mnist' });
    expect(remote.status).toBe('submitted');
    expect(remote.grade).toEqual(local.grade);
    expect(remote.history.map((s) => s.call)).toEqual(local.history.map((s) => s.call));
    expect(statuses).toContain(202);
    const trained = remote.history.filter((s) => s.call.tool === 'run_epochs').map((s) => s.outcome.step);
    expect(trained.length).toBeGreaterThan(0);
    // The first training step ran asynchronously and was waited for; later ones are estimated from the
    // episode's measured (fast) epochs and may answer synchronously: both kinds mix in one episode.
    const waited = [...new Set(pending.map((p) => p.step))];
    expect(waited).toContain(trained[0]);
    for (const step of waited) expect(trained).toContain(step);
    expect(pending.every((p) => p.poll === `/v1/episodes/${remote.episode_id}/steps/${p.step_id}`)).toBe(true);
  });

  it('reports a step that fails in the training function as step_failed, naming the step', async () => {
    const url = await serve(failing);
    const environment = new RestEnvironment({ url, apiKey: 'tenant-rest', sleep: quickSleep });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    expect(await session.call('configure_training', {})).toMatchObject({ step: 1, error: null });
    gate.failNextEpoch();
    const error = await session.call('run_epochs', { num_epochs: 3 }).catch((e) => e);
    expect(error).toBeInstanceOf(AgentEnvironmentError);
    expect(error).toMatchObject({ code: 'unavailable', info: { status: 500, errorCode: 'step_failed', details: { reason: 'internal' } } });
    expect(error.message).toMatch(/^step 2 run_epochs \(step_id [\w-]+\) failed on the server \(internal\): GET \/v1\/episodes\/[\w-]+\/steps\/[\w-]+: HTTP 500 step_failed: /);
    // Nothing was committed: the episode goes on from step 1.
    expect(await session.call('run_epochs', { num_epochs: 2 })).toMatchObject({ step: 2, error: null, data: { epochs_just_trained: 2 } });
  });
});
