import { describeTools } from '../../layers/core/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { AgentEnvironmentError, baselinePolicy, InProcessEnvironment, playEpisode, RestEnvironment } from '../../layers/agent/src';
import { FakeRestServer } from './helpers/fake-rest-server';

const noSleep = async () => {};

describe('the REST client', () => {
  let server: FakeRestServer;
  let url: string;

  beforeEach(async () => {
    server = new FakeRestServer();
    url = await server.start();
  });
  afterEach(() => server.stop());

  it('plays an episode over HTTP with the same outcome as in-process, sending the key and tenant headers', async () => {
    const environment = new RestEnvironment({ url, apiKey: 'k-123', tenantId: 'team-a', sleep: noSleep });
    const remote = await playEpisode({ environment, policy: baselinePolicy(), taskId: 'hard_cifar', seed: 3 });
    const local = await playEpisode({ environment: new InProcessEnvironment(formulaTrainerFactory), policy: baselinePolicy(), taskId: 'hard_cifar', seed: 3 });
    expect(remote.grade).toEqual(local.grade);
    expect(remote.total_reward).toBe(local.total_reward);
    expect(remote.history.map((s) => s.call)).toEqual(local.history.map((s) => s.call));
    expect(remote.episode_id).toBe('ep-1');
    expect(server.record('ep-1')!.status).toBe('submitted');
    for (const r of server.requests) {
      expect(r.headers['x-api-key']).toBe('k-123');
      expect(r.headers['x-tenant-id']).toBe('team-a');
    }
    const steps = server.requests.filter((r) => r.path.endsWith('/steps'));
    expect(steps).toHaveLength(remote.steps);
    const ids = steps.map((r) => (r.body as { request_id: string }).request_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/v1/tools' });
    expect(server.requests[1]).toMatchObject({ method: 'POST', path: '/v1/episodes', body: { task_id: 'hard_cifar', seed: 3 } });
  });

  it('lists the tools the server describes', async () => {
    const environment = new RestEnvironment({ url: `${url}/`, sleep: noSleep });
    expect(await environment.listTools()).toEqual(describeTools());
  });

  it('starts from the observation of the record the server returns', async () => {
    const session = await new RestEnvironment({ url, sleep: noSleep }).startEpisode({ taskId: 'medium_fashion' });
    expect(session).toMatchObject({ episodeId: 'ep-1', seed: 123, maxSteps: 15, task: { task_id: 'medium_fashion', max_epochs: 80 } });
    expect(session.initialObservation).toMatchObject({ current_epoch: 0, remaining_budget: 80, convergence_signal: 'not_started' });
  });

  it('retries a 503 with backoff, reusing the request_id', async () => {
    const delays: number[] = [];
    const retries: string[] = [];
    const environment = new RestEnvironment({
      url,
      sleep: async (ms) => void delays.push(ms),
      retry: { initialDelayMs: 100, maxDelayMs: 1000 },
      onRetry: (r) => retries.push(r.reason),
    });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    await session.call('configure_training', {});
    server.faults.push({ path: /\/steps$/, status: 503, times: 2 });
    const outcome = await session.call('run_epochs', { num_epochs: 4 });
    expect(outcome).toMatchObject({ step: 2, tool: 'run_epochs', error: null, done: false, replayed: false });
    expect(outcome.data.epochs_just_trained).toBe(4);
    const attempts = server.requests.filter((r) => r.path.endsWith('/steps')).slice(1);
    expect(attempts.map((r) => r.status)).toEqual([503, 503, 200]);
    const ids = attempts.map((r) => (r.body as { request_id: string }).request_id);
    expect(new Set(ids).size).toBe(1);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(200);
    expect(retries[0]).toContain('HTTP 503');
  });

  it('does not train twice when the answer to an executed step was lost: the retry is replayed', async () => {
    const environment = new RestEnvironment({ url, sleep: noSleep });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    await session.call('configure_training', {});
    server.faults.push({ path: /\/steps$/, status: 502, times: 1, afterExecute: true });
    const executedBefore = server.executed;
    const outcome = await session.call('run_epochs', { num_epochs: 5 });
    expect(server.executed - executedBefore).toBe(1);
    expect(outcome).toMatchObject({ step: 2, replayed: true, data: { current_epoch: 5, remaining_budget: 95 } });
  });

  it('retries network errors and waits for a step that is still in progress', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      if (calls === 2) {
        return new Response(JSON.stringify({ error: { code: 'in_progress', message: 'step running', details: {} } }), { status: 409 });
      }
      return fetch(input, init);
    };
    const retries: string[] = [];
    const environment = new RestEnvironment({ url, fetch: flaky, sleep: noSleep, retry: { attempts: 2 }, onRetry: (r) => retries.push(r.reason) });
    const tools = await environment.listTools();
    expect(tools).toHaveLength(6);
    expect(retries).toEqual([expect.stringContaining('ECONNRESET'), expect.stringContaining('still executing')]);
  });

  it('sends a step again, with the same request_id, when the server lost its lease before committing it', async () => {
    let lost = 0;
    let lostRequestId: unknown;
    const lapsing: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/steps') && lost === 0) {
        lost += 1;
        lostRequestId = JSON.parse(String(init?.body)).request_id;
        const error = { code: 'conflict', message: "This step's lease lapsed while it ran; nothing was committed.", details: { episode_id: 'ep-1', reason: 'lease_lost' } };
        return new Response(JSON.stringify({ error }), { status: 409 });
      }
      return fetch(input, init);
    };
    const retries: string[] = [];
    const environment = new RestEnvironment({ url, fetch: lapsing, sleep: noSleep, onRetry: (r) => retries.push(r.reason) });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    const outcome = await session.call('configure_training', {});
    expect(outcome).toMatchObject({ step: 1, tool: 'configure_training', error: null });
    expect(retries).toEqual([expect.stringContaining("lost the step's lease")]);
    expect(server.executed).toBe(1);
    const sent = server.requests.filter((r) => r.path.endsWith('/steps')).map((r) => (r.body as { request_id: string }).request_id);
    expect(sent).toEqual([lostRequestId]);
  });

  it('does not retry any other conflict', async () => {
    const conflicting: typeof fetch = async (input, init) =>
      String(input).endsWith('/steps')
        ? new Response(JSON.stringify({ error: { code: 'conflict', message: 'request_id reused for another call', details: {} } }), { status: 409 })
        : fetch(input, init);
    const environment = new RestEnvironment({ url, fetch: conflicting, sleep: noSleep });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    const error = await session.call('configure_training', {}).catch((e) => e);
    expect(error).toMatchObject({ code: 'rejected', info: { status: 409, errorCode: 'conflict' } });
  });

  it('gives up after the configured attempts with a clear error', async () => {
    server.faults.push({ path: /\/v1\/episodes$/, status: 500, times: 10 });
    const environment = new RestEnvironment({ url, sleep: noSleep, retry: { attempts: 3 } });
    const error = await environment.startEpisode({ taskId: 'easy_mnist' }).catch((e) => e);
    expect(error).toBeInstanceOf(AgentEnvironmentError);
    expect(error).toMatchObject({ code: 'unavailable', info: { attempts: 3 } });
    expect(error.message).toMatch(/POST \/v1\/episodes failed after 3 attempts: HTTP 500/);
  });

  it('reports a 4xx at once with the server code and message, without retrying', async () => {
    const environment = new RestEnvironment({ url, sleep: noSleep });
    const error = await environment.startEpisode({ taskId: 'no_such_task' }).catch((e) => e);
    expect(error).toBeInstanceOf(AgentEnvironmentError);
    expect(error).toMatchObject({ code: 'rejected', info: { status: 400, errorCode: 'unknown_task' } });
    expect(error.message).toContain('Unknown task_id "no_such_task"');
    expect(server.requests.filter((r) => r.path === '/v1/episodes')).toHaveLength(1);

    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    server.faults.push({ path: /\/steps$/, status: 401, times: 1, body: { error: { code: 'unauthorized', message: 'bad API key', details: {} } } });
    const denied = await session.call('get_training_status').catch((e) => e);
    expect(denied).toMatchObject({ code: 'rejected', info: { status: 401, errorCode: 'unauthorized' } });
    expect(denied.message).toContain('bad API key');
  });

  it('returns tool errors as outcomes (they are steps), not as exceptions', async () => {
    const session = await new RestEnvironment({ url, sleep: noSleep }).startEpisode({ taskId: 'easy_mnist' });
    const outcome = await session.call('run_epochs', { num_epochs: 3 });
    expect(outcome).toMatchObject({ step: 1, error: { code: 'not_configured' }, done: false });
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => new RestEnvironment({ url: 'ftp://example.com' })).toThrow(/http or https/);
    expect(() => new RestEnvironment({ url: 'not a url' })).toThrow(/not a valid server URL/);
  });

  it('reports an unreachable server, naming its URL and how to start one (a first contact refused is not retried)', async () => {
    await server.stop();
    const environment = new RestEnvironment({ url, sleep: noSleep, retry: { attempts: 2 } });
    const error = await environment.listTools().catch((e) => e);
    expect(error).toMatchObject({ code: 'unavailable' });
    expect(error.message).toContain(`nothing listens at ${url}`);
    expect(error.message).toContain('ml-trainer serve');
  });
});
