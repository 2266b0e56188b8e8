import { stepProgressSchema } from '../../layers/core/src';
import { StoredEpisodeService } from '../../layers/episodes/src';
import { openApiSchema } from '../../layers/server/src/openapi-schema';
import { MAX_RUNNING_STEPS, RunningSteps } from '../../layers/server/src/running-steps';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { epochGatedFactory } from '../agent/helpers/epoch-gated-trainers';
import { http, startServer, type HttpResult, type RunningServer } from './harness';

/**
 * GET /v1/episodes/{id}/steps/{step_id} on the local server: a step runs inside its POST, and
 * while that is in flight its status answers 202 running with the epochs done so far; otherwise
 * 404 with what to do instead. Tenant-scoped, ids bounded as on every route.
 */
describe('the step status route of the local server', () => {
  const gate = epochGatedFactory();
  let runtime: LocalRuntime;
  let server: RunningServer;
  let episodeId: string;
  const as = (tenant: string) => ({ 'x-tenant-id': tenant });
  const status = (stepId: string, tenant = 'owner'): Promise<HttpResult> => http('GET', `${server.base}/v1/episodes/${episodeId}/steps/${stepId}`, undefined, as(tenant));

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: gate.factory, logger: { warn: () => undefined } });
    server = await startServer({ service });
    episodeId = (await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' }, as('owner'))).json.episode_id;
    expect((await http('POST', `${server.base}/v1/episodes/${episodeId}/steps`, { tool: 'configure_training', arguments: {} }, as('owner'))).status).toBe(200);
  });
  afterAll(async () => {
    gate.allowAll();
    await server?.close();
    await runtime?.close();
  });

  it('answers a running step 202 with its progress while the POST is in flight, 404 once it answered', async () => {
    gate.allow(gate.started + 1);
    const post = http('POST', `${server.base}/v1/episodes/${episodeId}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 3 }, request_id: 'slow-1' }, as('owner'));
    // Epoch 1 trains, epoch 2 waits for the gate: poll until the first epoch shows (bounded).
    let running = await status('slow-1');
    for (let i = 0; i < 200 && running.json?.progress?.epochs_done !== 1; i++) running = await status('slow-1');
    expect(running.status).toBe(202);
    expect(running.headers.get('location')).toBe(`/v1/episodes/${episodeId}/steps/slow-1`);
    expect(running.headers.get('retry-after')).toBe('5');
    expect(running.json).toEqual({
      step_id: 'slow-1',
      status: 'running',
      poll: `/v1/episodes/${episodeId}/steps/slow-1`,
      requested_at: expect.any(String),
      deadline_at: expect.any(String),
      progress: {
        epochs_done: 1,
        epochs_planned: 3,
        epochs: [
          {
            epoch: 1,
            index: 1,
            learning_rate: expect.any(Number),
            train_loss: expect.any(Number),
            train_accuracy: expect.any(Number),
            val_loss: expect.any(Number),
            val_accuracy: expect.any(Number),
            seconds: expect.any(Number),
            diverged: false,
          },
        ],
      },
    });
    expect(Date.parse(running.json.deadline_at)).toBeGreaterThan(Date.parse(running.json.requested_at));

    // Another tenant cannot see it; nor can the owner under another episode id.
    const foreign = await status('slow-1', 'intruder');
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe('not_found');
    expect((await http('GET', `${server.base}/v1/episodes/other-episode/steps/slow-1`, undefined, as('owner'))).status).toBe(404);

    gate.allowAll();
    const answered = await post;
    expect(answered.status).toBe(200);
    expect(answered.json.data.epochs_just_trained).toBe(3);
    const after = await status('slow-1');
    expect(after.status).toBe(404);
    expect(after.json.error).toMatchObject({ code: 'not_found', details: { episode_id: episodeId, step_id: 'slow-1' } });
    expect(after.json.error.message).toMatch(/same request_id replays the stored result/);
  });

  it('refuses hostile step ids with a 4xx that names the problem', async () => {
    const long = await status('s'.repeat(5000));
    expect(long.status).toBe(414);
    expect(long.json.error.code).toBeDefined();
    const badEncoding = await status('%E0%A4%A');
    expect(badEncoding.status).toBe(400);
    const unknown = await status('never-sent');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toMatch(/No step "never-sent" is running/);
    const badTenant = await http('GET', `${server.base}/v1/episodes/${episodeId}/steps/x`, undefined, { 'x-tenant-id': 'bad tenant!' });
    expect(badTenant.status).toBe(400);
  });
});

describe('the step status route in the OpenAPI document', () => {
  it('declares the 202 with the progress schema of the wire contract', async () => {
    const server = await startServer();
    try {
      const document = (await http('GET', `${server.base}/openapi.json`)).json;
      const route = document.paths['/v1/episodes/{id}/steps/{step_id}'].get;
      expect(route.parameters.map((p: { name: string }) => p.name)).toEqual(['id', 'step_id']);
      expect(route.responses[202].content['application/json'].schema.properties.progress).toEqual(openApiSchema(stepProgressSchema));
    } finally {
      await server.close();
    }
  });
});

describe('RunningSteps (the registry behind the route)', () => {
  it('keeps the first registration of a step, forgets it when that request ends, and is bounded', () => {
    const steps = new RunningSteps(2);
    const first = steps.start('t', 'e', 's1', '2030-01-01T00:00:00.000Z')!;
    expect(steps.start('t', 'e', 's1', '2030-01-01T00:00:01.000Z')).toBeNull();
    expect(steps.get('t', 'e', 's1')).toMatchObject({ requestedAt: '2030-01-01T00:00:00.000Z', executing: false });
    expect(steps.get('u', 'e', 's1')).toBeUndefined();
    first.epoch({ epoch: 3, index: 1, total: 2, learning_rate: 0.001, train_loss: Number.NaN, train_accuracy: 0.1, val_loss: null, val_accuracy: null, seconds: 1, diverged: true });
    expect(steps.get('t', 'e', 's1')).toMatchObject({ executing: true, progress: { epochs_done: 1, epochs_planned: 2, epochs: [{ train_loss: null, diverged: true }] } });
    expect(steps.start('t', 'e', 's2', 'x')).not.toBeNull();
    expect(steps.start('t', 'e', 's3', 'x')).toBeNull();
    first.end();
    expect(steps.get('t', 'e', 's1')).toBeUndefined();
    expect(steps.size).toBe(1);
    expect(MAX_RUNNING_STEPS).toBeGreaterThanOrEqual(1000);
  });
});
