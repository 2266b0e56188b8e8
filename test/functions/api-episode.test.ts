import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startCloud, type Cloud } from './helpers';

/** A whole episode through the api Lambda (real API Gateway events) and the training Lambda (in-process, formula trainer). */

const SCRIPT = [
  { tool: 'configure_training', arguments: { learning_rate: 0.001, batch_size: 64 } },
  { tool: 'run_epochs', arguments: { num_epochs: 5 } },
  { tool: 'get_training_status', arguments: {} },
  { tool: 'adjust_learning_rate', arguments: { new_lr: 0.0005 } },
  { tool: 'run_epochs', arguments: { num_epochs: 3 } },
  { tool: 'submit_model', arguments: {} },
];

describe('api + training Lambdas: a whole episode', () => {
  let cloud: Cloud;
  beforeAll(async () => {
    cloud = await startCloud({ apiEnv: { SYNC_STEP_BUDGET_MS: '60000' } });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  let episodeId: string;
  let last: any;

  it('creates an episode (201, Location) as the local REST API does', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist', seed: 7 } });
    expect(created.status).toBe(201);
    episodeId = created.json.episode_id;
    expect(created.headers.location).toBe(`/v1/episodes/${episodeId}`);
    expect(created.json).toMatchObject({ tenant: 'tenant-a', task_id: 'easy_mnist', seed: 7, status: 'active', step_count: 0, grade: null });
    expect(created.json.task.task_id).toBe('easy_mnist');
  });

  it('runs the steps that train in the training Lambda, synchronously, the others in the api, and answers the step view', async () => {
    for (const [i, call] of SCRIPT.entries()) {
      const step = await cloud.api('POST', `/v1/episodes/${episodeId}/steps`, { body: { ...call, request_id: `req-${i}` } });
      expect(step.status).toBe(200);
      last = step.json;
      expect(last).toMatchObject({ episode_id: episodeId, step: i + 1, tool: call.tool, error: null, replayed: false, version: i + 1 });
    }
    expect(last.done).toBe(true);
    expect(last.grade.score).toBeGreaterThan(0);
    // Only the two run_epochs steps were invoked (configure, status, learning rate and submit committed in the api).
    const trainingCalls = cloud.training.invocations;
    expect(trainingCalls.map((c) => (c.event as { request_id: string }).request_id)).toEqual(['req-1', 'req-4']);
    expect(trainingCalls.every((c) => c.mode === 'sync')).toBe(true);
    expect(trainingCalls[0]!.event).toMatchObject({ kind: 'ml-trainer.step', version: 1, mode: 'sync', tenant: 'tenant-a', episode_id: episodeId, request_id: 'req-1', call: SCRIPT[1] });
  });

  it('asks the grade Lambda (asynchronously) to grade the episode that ended; it confirms the recorded grade', async () => {
    await cloud.grade.drain();
    expect(cloud.grade.invocations).toEqual([{ mode: 'async', event: { source: 'api', tenant: 'tenant-a', episode_id: episodeId } }]);
    expect(cloud.grade.asyncFailures).toEqual([]);
    const item = await cloud.runtime.clients.documents.send(
      new GetCommand({ TableName: cloud.runtime.config.tableName, Key: { pk: `episode#tenant-a#${episodeId}`, sk: 'episode' } }),
    );
    expect(item.Item).toMatchObject({ grade_matches: true, graded_by: 'api', score: last.grade.score });
  });

  it('replays a repeated request_id in the api Lambda itself (no training invocation); another call under it is a conflict', async () => {
    const before = cloud.training.invocations.length;
    const replay = await cloud.api('POST', `/v1/episodes/${episodeId}/steps`, { body: { ...SCRIPT[5], request_id: 'req-5' } });
    expect(replay.status).toBe(200);
    expect(replay.json).toMatchObject({ replayed: true, step: 6, grade: last.grade });
    const reused = await cloud.api('POST', `/v1/episodes/${episodeId}/steps`, { body: { tool: 'get_training_status', request_id: 'req-5' } });
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('conflict');
    expect(cloud.training.invocations.length).toBe(before);
  });

  it('answers a step after the end with 409 episode_over and the (uncommitted) step in details, without invoking training', async () => {
    const before = cloud.training.invocations.length;
    const over = await cloud.api('POST', `/v1/episodes/${episodeId}/steps`, { body: { tool: 'get_training_status' } });
    expect(over.status).toBe(409);
    expect(over.json.error).toMatchObject({ code: 'episode_over', details: { step: { done: true, tool: 'get_training_status' } } });
    expect(cloud.training.invocations.length).toBe(before);
  });

  it('reads the episode: submitted, graded, with its usage', async () => {
    const episode = await cloud.api('GET', `/v1/episodes/${episodeId}`);
    expect(episode.status).toBe(200);
    expect(episode.json).toMatchObject({ status: 'submitted', step_count: 6, score: last.grade.score, grade: last.grade, usage: { steps: 6, epochs_trained: 8 } });
    const list = await cloud.api('GET', '/v1/episodes', { query: { limit: '5' } });
    expect(list.json.items.map((e: any) => e.episode_id)).toContain(episodeId);
  });

  it('reports tool errors as the local API does: 409 not_configured and 422 unknown tool, with the committed step', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'medium_fashion' } });
    const id = created.json.episode_id;
    const early = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 2 } } });
    expect(early.status).toBe(409);
    expect(early.json.error).toMatchObject({ code: 'not_configured', details: { step: { step: 1, tool: 'run_epochs', done: false } } });
    const unknown = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'train_harder' } });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error).toMatchObject({ code: 'unknown_tool', details: { field: 'tool', step: { step: 2 } } });
    const invalid = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 'many' } } });
    expect(invalid.status).toBe(422);
    expect(invalid.json.error.code).toBe('invalid_arguments');
  });

  it('validates requests with the local API’s rules and error shapes', async () => {
    const badBody = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist', extra: 1 } });
    expect(badBody.status).toBe(400);
    expect(badBody.json.error).toMatchObject({ code: 'validation_error', details: { errors: [{ type: 'extra_forbidden', loc: ['body', 'extra'] }] } });
    const badJson = await cloud.api('POST', '/v1/episodes', { body: '{"task_id":' });
    expect(badJson.status).toBe(400);
    expect(badJson.json.error.code).toBe('invalid_json');
    const unknownTask = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'hard_imagenet' } });
    expect(unknownTask.status).toBe(400);
    expect(unknownTask.json.error.code).toBe('unknown_task');
    const badLimit = await cloud.api('GET', '/v1/episodes', { query: { limit: '0' } });
    expect(badLimit.status).toBe(400);
    const badRequestId = await cloud.api('POST', `/v1/episodes/${episodeId}/steps`, { body: { tool: 'get_training_status', request_id: '#nope' } });
    expect(badRequestId.status).toBe(400);
    expect(badRequestId.json.error).toMatchObject({ code: 'validation_error', details: { errors: [{ loc: ['body', 'request_id'] }] } });
    const route = await cloud.api('GET', '/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(route.json.error.code).toBe('not_found');
    const tools = await cloud.api('GET', '/v1/tools');
    expect(tools.json.tools.map((t: any) => t.name)).toContain('run_epochs');
    const tasks = await cloud.api('GET', '/v1/tasks');
    expect(tasks.json.tasks).toHaveLength(3);
  });

  it('takes the tenant from the API key id only: none is a 401 JSON answer, a header is ignored', async () => {
    for (const [method, path] of [
      ['GET', '/v1/tasks'],
      ['GET', `/v1/episodes/${episodeId}`],
      ['POST', '/v1/episodes'],
    ] as const) {
      const answer = await cloud.api(method, path, { apiKeyId: null, body: method === 'POST' ? { task_id: 'easy_mnist' } : undefined });
      expect(answer.status).toBe(401);
      expect(answer.json.error.code).toBe('unauthorized');
      expect(answer.headers['content-type']).toMatch(/application\/json/);
    }
    const spoofed = await cloud.api('GET', `/v1/episodes/${episodeId}`, { apiKeyId: 'tenant-b', headers: { 'x-tenant-id': 'tenant-a' } });
    expect(spoofed.status).toBe(404);
  });

  it("gives tenant B a 404 for everything of tenant A's", async () => {
    const b = { apiKeyId: 'tenant-b' };
    expect((await cloud.api('GET', `/v1/episodes/${episodeId}`, b)).status).toBe(404);
    const step = await cloud.api('POST', `/v1/episodes/${episodeId}/steps`, { ...b, body: { tool: 'get_training_status' } });
    expect(step.status).toBe(404);
    expect(step.json.error.code).toBe('not_found');
    expect((await cloud.api('GET', `/v1/episodes/${episodeId}/steps/req-1`, b)).status).toBe(404);
    expect((await cloud.api('GET', '/v1/episodes', b)).json).toEqual({ items: [], cursor: null });
    const usage = await cloud.api('GET', '/v1/usage', b);
    expect(usage.json).toMatchObject({ tenant: 'tenant-b', episodes: 0, usage: { steps: 0, lambda_gb_seconds: 0 } });
  });

  it('answers a poll of a committed step with its stored view (nothing executes)', async () => {
    const before = cloud.training.invocations.length;
    const poll = await cloud.api('GET', `/v1/episodes/${episodeId}/steps/req-1`);
    expect(poll.status).toBe(200);
    expect(poll.json).toMatchObject({ episode_id: episodeId, step: 2, tool: 'run_epochs', error: null });
    expect((await cloud.api('GET', `/v1/episodes/${episodeId}/steps/no-such-step`)).status).toBe(404);
    expect(cloud.training.invocations.length).toBe(before);
  });

  it('reports usage that adds up: steps, epochs, GB-seconds and cost over the time range', async () => {
    const usage = await cloud.api('GET', '/v1/usage', {
      query: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(usage.status).toBe(200);
    // Two episodes: the whole one (6 steps, 8 epochs) and the one with three rejected calls (3 steps, 0 epochs).
    expect(usage.json).toMatchObject({ tenant: 'tenant-a', episodes: 2, by_status: { submitted: 1, active: 1 } });
    expect(usage.json.usage).toMatchObject({ steps: 9, epochs_trained: 8 });
    // Every training invocation is billed 250 ms at 10240 MB = 2.5 GB-s; 2 invocations (the two run_epochs steps: every other
    // step, the rejected calls included, executed in the api; the replay and the episode_over never reached it).
    const invocations = cloud.training.invocations.length;
    expect(invocations).toBe(2);
    expect(usage.json.usage.lambda_requests).toBe(invocations);
    expect(usage.json.usage.lambda_gb_seconds).toBeCloseTo(2.5 * invocations, 6);
    expect(usage.json.usage.lambda_billed_ms).toBe(250 * invocations);
    expect(usage.json.usage.training_seconds).toBeGreaterThan(0);
    const cost = 2 * 0.1 + 2.5 * invocations * 0.0000166667 + invocations * 0.0000002;
    expect(usage.json.estimated_cost.total_usd).toBeCloseTo(cost, 6);
    expect(usage.json.estimated_cost.episodes_usd).toBeCloseTo(0.2, 9);
    // A range before everything counts nothing; a bad range is a validation error.
    const none = await cloud.api('GET', '/v1/usage', { query: { from: '2020-01-01T00:00:00Z', to: '2020-02-01T00:00:00Z' } });
    expect(none.json).toMatchObject({ episodes: 0, usage: { steps: 0 } });
    const bad = await cloud.api('GET', '/v1/usage', { query: { from: 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('validation_error');
  });
});
