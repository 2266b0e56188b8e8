import { http, SCRIPT, startServer, storedServerForSuite, type RunningServer } from './harness';
import { InMemoryEpisodeService } from './in-memory-episode-service';

/** The REST API under /v1. */

describe('a whole episode over REST (stored service: dynalite + s3rver)', () => {
  const server = storedServerForSuite();

  it('creates, steps to submission, reads the record, grade and usage, lists', async () => {
    const tenant = { 'x-tenant-id': 'rest-team' };
    const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'hard_cifar', seed: 9 }, tenant);
    expect(created.status).toBe(201);
    const id = created.json.episode_id;
    expect(created.headers.get('location')).toBe(`/v1/episodes/${id}`);
    expect(created.json).toMatchObject({ tenant: 'rest-team', task_id: 'hard_cifar', seed: 9, status: 'active', step_count: 0, grade: null, usage: { steps: 0 } });

    let last: any;
    for (const [i, call] of SCRIPT.entries()) {
      const step = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: call.tool, arguments: call.arguments, request_id: `step-${i}` }, tenant);
      expect(step.status).toBe(200);
      last = step.json;
      expect(last).toMatchObject({ episode_id: id, step: i + 1, tool: call.tool, error: null, replayed: false, version: i + 1 });
    }
    expect(last.done).toBe(true);

    // A retried request replays; the same request_id for another call is a conflict.
    const replay = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'submit_model', arguments: {}, request_id: 'step-4' }, tenant);
    expect(replay.json).toMatchObject({ replayed: true, step: 5, grade: last.grade });
    const reused = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'get_training_status', request_id: 'step-4' }, tenant);
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('conflict');

    const episode = await http('GET', `${server.base}/v1/episodes/${id}`, undefined, tenant);
    expect(episode.json).toMatchObject({ episode_id: id, status: 'submitted', step_count: 5, grade: last.grade, score: last.grade.score, usage: { steps: 5, epochs_trained: 15 } });
    expect(episode.json.record.steps).toHaveLength(5);

    await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' }, tenant);
    const page1 = await http('GET', `${server.base}/v1/episodes?limit=1`, undefined, tenant);
    expect(page1.json.items).toHaveLength(1);
    expect(typeof page1.json.cursor).toBe('string');
    const page2 = await http('GET', `${server.base}/v1/episodes?limit=1&cursor=${encodeURIComponent(page1.json.cursor)}`, undefined, tenant);
    expect(page2.json.items).toHaveLength(1);
    expect(page2.json.items[0].episode_id).not.toBe(page1.json.items[0].episode_id);

    // Another tenant sees nothing of it.
    expect((await http('GET', `${server.base}/v1/episodes/${id}`, undefined, { 'x-tenant-id': 'other' })).status).toBe(404);
    expect((await http('GET', `${server.base}/v1/episodes`, undefined, { 'x-tenant-id': 'other' })).json).toEqual({ items: [], cursor: null });
  });
});

describe('REST errors', () => {
  let service: InMemoryEpisodeService;
  let server: RunningServer;
  let id: string;
  beforeAll(async () => {
    service = new InMemoryEpisodeService();
    server = await startServer({ service, bodyLimit: 2048 });
    id = (await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' })).json.episode_id;
  });
  afterAll(() => server.close());
  const steps = () => `${server.base}/v1/episodes/${id}/steps`;

  it('GET /v1/tasks and /v1/tools', async () => {
    expect((await http('GET', `${server.base}/v1/tasks`)).json.tasks.map((t: { task_id: string }) => t.task_id)).toEqual(['easy_mnist', 'medium_fashion', 'hard_cifar']);
    expect((await http('GET', `${server.base}/v1/tools`)).json.tools[0]).toMatchObject({ name: 'configure_training', input_schema: { type: 'object' } });
  });

  it('400 invalid JSON, 400 validation, 415 content type, 413 too large: {error: {code, message, details}}', async () => {
    const malformed = await http('POST', steps(), '{"tool":');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toEqual({ error: { code: 'invalid_json', message: expect.stringMatching(/^Invalid JSON/), details: {} } });

    const wrongType = await http('POST', steps(), { tool: 42 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error).toMatchObject({ code: 'validation_error', message: expect.stringContaining('body.tool'), details: { errors: [expect.objectContaining({ loc: ['body', 'tool'] })] } });
    const argsArray = await http('POST', steps(), { tool: 'run_epochs', arguments: [1] });
    expect(argsArray.status).toBe(400);
    const extraKey = await http('POST', steps(), { tool: 'run_epochs', args: {} });
    expect(extraKey.json.error.details.errors[0]).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'args'] });
    const noBody = await http('POST', steps());
    expect(noBody.status).toBe(400);
    const badLimit = await http('GET', `${server.base}/v1/episodes?limit=1000`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.json.error.details.errors[0].loc).toEqual(['query', 'limit']);
    const badSeed = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist', seed: -3 });
    expect(badSeed.status).toBe(400);
    const unknownTask = await http('POST', `${server.base}/v1/episodes`, { task_id: 'imagenet' });
    expect(unknownTask.status).toBe(400);
    expect(unknownTask.json.error).toMatchObject({ code: 'unknown_task', details: { field: 'task_id', allowed: ['easy_mnist', 'medium_fashion', 'hard_cifar'] } });

    const text = await http('POST', steps(), 'tool=run_epochs', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(text.status).toBe(415);
    expect(text.json.error.code).toBe('unsupported_media_type');

    const big = await http('POST', steps(), { tool: 'configure_training', arguments: { note: 'x'.repeat(4000) } });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining('2048 bytes') });
  });

  it('404 unknown episode and unknown route', async () => {
    const missing = await http('GET', `${server.base}/v1/episodes/does-not-exist`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
    expect((await http('POST', `${server.base}/v1/episodes/does-not-exist/steps`, { tool: 'submit_model' })).status).toBe(404);
    const route = await http('GET', `${server.base}/v1/nothing/here`);
    expect(route.status).toBe(404);
    expect(route.json).toEqual({ error: { code: 'not_found', message: 'No route GET /v1/nothing/here.', details: {} } });
  });

  it('tool errors are steps: 422/409 naming the problem, with the committed step in details', async () => {
    const fresh = (await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' })).json.episode_id;
    const url = `${server.base}/v1/episodes/${fresh}/steps`;
    const unknown = await http('POST', url, { tool: 'warp_drive' });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error).toMatchObject({ code: 'unknown_tool', details: { allowed: expect.arrayContaining(['run_epochs']), step: { step: 1 } } });
    expect(unknown.json.error.message).toContain('warp_drive');
    const wrongType = await http('POST', url, { tool: 'configure_training', arguments: { dropout: 'lots' } });
    expect(wrongType.status).toBe(422);
    expect(wrongType.json.error).toMatchObject({ code: 'invalid_arguments', details: { field: 'dropout', step: { step: 2 } } });
    const range = await http('POST', url, { tool: 'configure_training', arguments: { weight_decay: 2 } });
    expect(range.json.error).toMatchObject({ code: 'invalid_arguments', message: expect.stringContaining('0 ≤ x ≤ 1'), details: { field: 'weight_decay', step: { step: 3 } } });
    const early = await http('POST', url, { tool: 'run_epochs' });
    expect(early.status).toBe(409);
    expect(early.json.error).toMatchObject({ code: 'not_configured', details: { step: { step: 4 } } });
    const episode = await http('GET', `${server.base}/v1/episodes/${fresh}`);
    expect(episode.json.step_count).toBe(4);
    expect((await http('GET', `${server.base}/health`)).status).toBe(200);
  });

  it('never sends NaN or Infinity: a diverged run (lr 5 → NaN loss) has null losses', async () => {
    const fresh = (await http('POST', `${server.base}/v1/episodes`, { task_id: 'medium_fashion' })).json.episode_id;
    const url = `${server.base}/v1/episodes/${fresh}/steps`;
    await http('POST', url, { tool: 'configure_training', arguments: { learning_rate: 8 } });
    // http() itself fails on any NaN/Infinity token in a response body.
    const diverged = await http('POST', url, { tool: 'run_epochs', arguments: { num_epochs: 4 } });
    expect(diverged.json.data).toMatchObject({ is_diverged: true, train_loss: null, val_loss: null });
    const episode = await http('GET', `${server.base}/v1/episodes/${fresh}`);
    expect(episode.json.record.model).toMatchObject({ diverged: true, diverged_train_loss: null });
  });

  it('409 while another step of the episode runs', async () => {
    let open!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (entered = resolve));
    // A thenable gate: the step that awaits it holds the episode and says so (no sleep, no race).
    const signallingGate: PromiseLike<void> = {
      then(onOpen, onFail) {
        entered();
        return gate.then(onOpen, onFail);
      },
    };
    service.stepGate = signallingGate as Promise<void>;
    const first = http('POST', steps(), { tool: 'configure_training' });
    try {
      await Promise.race([reached, first.then((r) => Promise.reject(new Error(`the first step answered ${r.status} before reaching the gate`)))]);
      const second = await http('POST', steps(), { tool: 'get_training_status' });
      expect(second.status).toBe(409);
      expect(second.json.error.code).toBe('in_progress');
    } finally {
      // Released whatever happened above: a held gate would stall every later step of the file.
      service.stepGate = null;
      open();
    }
    expect((await first).status).toBe(200);
  });

  it('a real fault is a 500 that shows no internals, and the server stays healthy', async () => {
    service.failNextStep = new Error('CUDA exploded at /secret/path/trainer.ts:42');
    const res = await http('POST', steps(), { tool: 'get_training_status' });
    expect(res.status).toBe(500);
    expect(res.json.error.code).toBe('internal_error');
    expect(res.text).not.toContain('secret');
    expect(res.text).not.toContain('CUDA');
    expect((await http('GET', `${server.base}/health`)).json).toEqual({ status: 'healthy' });
    expect((await http('POST', steps(), { tool: 'get_training_status' })).status).toBe(200);
  });

  it('the tenant comes from an injectable resolver (e.g. API keys), which can refuse', async () => {
    const keyed = await startServer({
      tenantFromRequest: (request) => {
        const key = request.headers.authorization;
        if (key === 'Bearer key-a') return 'team-a';
        const { TenantError } = require('../../layers/server/src') as typeof import('../../layers/server/src');
        throw new TenantError('Unknown API key.', 401);
      },
    });
    try {
      const ok = await http('POST', `${keyed.base}/v1/episodes`, { task_id: 'easy_mnist' }, { authorization: 'Bearer key-a' });
      expect(ok.json.tenant).toBe('team-a');
      const refused = await http('POST', `${keyed.base}/v1/episodes`, { task_id: 'easy_mnist' }, { authorization: 'Bearer nope' });
      expect(refused.status).toBe(401);
      expect(refused.json.error).toMatchObject({ code: 'unauthorized', message: 'Unknown API key.' });
    } finally {
      await keyed.close();
    }
  });
});
