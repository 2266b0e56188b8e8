import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { EpisodeEventBus } from '../../layers/server/src/dashboard-events';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { http, startServer, type RunningServer } from '../server/harness';
import { gatedFactory, instrumentedFactory, type InstrumentedFactory } from './helpers';

/** Single flight through the local server (REST, JSON-RPC): concurrent requests on one episode train once. */

const CALLERS = 10;
const tenant = { 'x-tenant-id': 'single-flight' };

let runtime: LocalRuntime;
let server: RunningServer;
let trainers: InstrumentedFactory;
const gated = gatedFactory();

beforeAll(async () => {
  runtime = await startLocalRuntime();
  trainers = instrumentedFactory(gated.factory);
  const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers, logger: { warn: () => undefined } });
  server = await startServer({ service });
});
afterAll(async () => {
  await server?.close();
  await runtime?.close();
});

async function configuredEpisode(): Promise<{ id: string; steps: string }> {
  const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist', seed: 3 }, tenant);
  expect(created.status).toBe(201);
  const id = created.json.episode_id as string;
  const steps = `${server.base}/v1/episodes/${id}/steps`;
  expect((await http('POST', steps, { tool: 'configure_training', arguments: { learning_rate: 0.0005 } }, tenant)).status).toBe(200);
  return { id, steps };
}

const trainings = () => trainers.counts.create + trainers.counts.restore;

describe('one execution per episode through the local server', () => {
  it(`${CALLERS} different concurrent run_epochs: one trains, the others get 409 episode_busy with Retry-After while it trains`, async () => {
    const { steps } = await configuredEpisode();
    const before = trainings();
    const requests = Array.from({ length: CALLERS }, (_, i) =>
      http('POST', steps, { tool: 'run_epochs', arguments: { num_epochs: 2 }, request_id: `different-${i}` }, tenant),
    );
    // The gate is shut: the one executing step cannot finish until the others have all been answered.
    const answered: Awaited<(typeof requests)[number]>[] = [];
    await new Promise<void>((resolve) => {
      requests.forEach((request) =>
        void request.then((result) => {
          answered.push(result);
          if (answered.length === CALLERS - 1) resolve();
        }),
      );
    });
    for (const refused of answered) {
      expect(refused.status).toBe(409);
      expect(refused.json.error).toMatchObject({ code: 'episode_busy' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    gated.open();
    const all = await Promise.all(requests);
    const ok = all.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0].json).toMatchObject({ version: 2, error: null, replayed: false });
    expect(trainings() - before).toBe(1);
  });

  it(`${CALLERS} concurrent duplicates of one run_epochs train once and answer identically`, async () => {
    const { id } = await configuredEpisode();
    const steps = `${server.base}/v1/episodes/${id}/steps`;
    const before = { trainings: trainings(), epochs: trainers.counts.trainEpoch };
    trainers.delayMs = 30;
    const all = await Promise.all(
      Array.from({ length: CALLERS }, () => http('POST', steps, { tool: 'run_epochs', arguments: { num_epochs: 3 }, request_id: 'same-call' }, tenant)),
    );
    trainers.delayMs = 0;
    expect(all.map((r) => r.status)).toEqual(Array(CALLERS).fill(200));
    expect(trainings() - before.trainings).toBe(1);
    expect(trainers.counts.trainEpoch - before.epochs).toBe(3);
    expect(all.filter((r) => r.json.replayed === false)).toHaveLength(1);
    const first = all.find((r) => r.json.replayed === false)!.json;
    for (const r of all) expect({ ...r.json, replayed: false }).toEqual(first);
    const episode = await http('GET', `${server.base}/v1/episodes/${id}`, undefined, tenant);
    expect(episode.json).toMatchObject({ version: 2, usage: { steps: 2, epochs_trained: 3 } });
  });

  it('JSON-RPC answers a busy episode with its own error shape (server error, data.code episode_busy)', async () => {
    gated.close();
    const rpc = (id: number, method: string, params: Record<string, unknown>) =>
      http('POST', `${server.base}/mcp`, { jsonrpc: '2.0', id, method, params }, tenant);
    const session = (await rpc(1, 'openenv/session/create', { task_id: 'easy_mnist', seed: 5 })).json.result.session_id as string;
    expect((await rpc(2, 'tools/call', { name: 'configure_training', arguments: {}, session_id: session })).status).toBe(200);
    const before = trainings();
    const training = rpc(3, 'tools/call', { name: 'run_epochs', arguments: { num_epochs: 1 }, session_id: session });
    await until(() => trainings() > before);
    const busy = await rpc(4, 'tools/call', { name: 'get_training_status', arguments: {}, session_id: session });
    expect(busy.json).toMatchObject({ jsonrpc: '2.0', id: 4, error: { code: -32000, data: { code: 'episode_busy' } } });
    gated.open();
    expect((await training).json).toMatchObject({ jsonrpc: '2.0', id: 3, result: expect.anything() });
    expect(trainings() - before).toBe(1);
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('timed out');
}

describe("the dashboard's memory of an episode's failed request", () => {
  it('does not count an episode_busy refusal as a failure of the episode', () => {
    const bus = new EpisodeEventBus();
    const ended = { type: 'step_ended', tenant: 't', episode_id: 'e', run: 1, tool: 'run_epochs', ok: false, step: null, done: false } as const;
    bus.publish({ ...ended, error_code: 'episode_busy', error_message: 'Episode e is executing another step; nothing ran.' });
    expect(bus.replay('t', 'e')).toEqual([]);
    bus.publish({ ...ended, run: 2, error_code: 'internal_error', error_message: 'failed' });
    expect(bus.replay('t', 'e')).toHaveLength(1);
  });
});
