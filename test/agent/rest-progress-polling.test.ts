import { RestEnvironment } from '../../layers/agent/src';
import { FakeRestServer } from './helpers/fake-rest-server';

/**
 * How the REST client polls a step's status while its request is in flight, against servers
 * that cannot answer it: one without the route (an older server) is asked once per session;
 * one that does not know the step (the cloud records only its asynchronous steps) a few times
 * per step.
 */
describe('the REST client polling a synchronous step for progress', () => {
  let server: FakeRestServer;
  let url: string;
  beforeEach(async () => {
    server = new FakeRestServer();
    url = await server.start();
  });
  afterEach(() => server.stop());

  const statusGets = (requests: { method: string; path: string }[]) => requests.filter((r) => r.method === 'GET' && /\/steps\/[^/]+$/.test(r.path)).length;
  /**
   * The server's fetch, where a step's answer is held back until ready(n) (n: which
   * step request it is, from 1) and then 100 ms more (five more polling intervals): its request is in
   * flight meanwhile. answerStatus may answer a status GET itself.
   */
  const holding = (ready: (n: number) => boolean, answerStatus?: (path: string) => Response | undefined): typeof fetch => {
    let steps = 0;
    return async (input, init) => {
      const path = new URL(String(input)).pathname;
      const synthetic = init?.method === 'GET' ? answerStatus?.(path) : undefined;
      if (synthetic) return synthetic;
      if (init?.method === 'POST' && path.endsWith('/steps')) {
        const n = ++steps;
        for (let i = 0; i < 1000 && !ready(n); i++) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return fetch(input, init);
    };
  };

  it('stops for the session at the first answer that shows no status route (404 without a step), quietly', async () => {
    const environment = new RestEnvironment({ url, progressPollIntervalMs: 20, fetch: holding(() => statusGets(server.requests) >= 1) });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    const epochs: number[] = [];
    await session.call('configure_training', {}, { onEpoch: (p) => epochs.push(p.index) });
    expect(statusGets(server.requests)).toBe(1);
    expect(server.requests.find((r) => r.method === 'GET' && /\/steps\//.test(r.path))?.status).toBe(404);
    const outcome = await session.call('run_epochs', { num_epochs: 2 }, { onEpoch: (p) => epochs.push(p.index) });
    expect(outcome).toMatchObject({ error: null, data: { epochs_just_trained: 2 } });
    expect(statusGets(server.requests)).toBe(1);
    expect(epochs).toEqual([]);
  });

  it('stops polling a step after three answers that do not know it, and polls the next step again', async () => {
    let gets = 0;
    const unknownStep = (path: string) => {
      if (!/\/steps\/[^/]+$/.test(path)) return undefined;
      gets += 1;
      const stepId = decodeURIComponent(path.split('/').pop()!);
      return new Response(JSON.stringify({ error: { code: 'not_found', message: 'No step.', details: { episode_id: 'x', step_id: stepId } } }), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      });
    };
    const environment = new RestEnvironment({ url, progressPollIntervalMs: 20, fetch: holding((n) => n > 2 || gets >= 3 * n, unknownStep) });
    const session = await environment.startEpisode({ taskId: 'easy_mnist' });
    await session.call('configure_training', {}, { onEpoch: () => undefined });
    expect(gets).toBe(3);
    await session.call('get_training_status', {}, { onEpoch: () => undefined });
    expect(gets).toBe(6);
    // Without onEpoch nobody wants progress: nothing is polled.
    await session.call('get_training_status', {});
    expect(gets).toBe(6);
  });
});
