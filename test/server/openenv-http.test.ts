import { http, startServer, type RunningServer } from './harness';

/** OpenEnv's HTTP routes (§4) and what `openenv validate` and validate-submission.sh check (§12). */

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ bodyLimit: 4096 });
});
afterAll(() => server.close());

const url = (path: string) => `${server.base}${path}`;

describe('info routes', () => {
  it('GET /health is exactly {"status":"healthy"}', async () => {
    const res = await http('GET', url('/health'));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'healthy' });
  });

  it('GET /metadata has name and description strings', async () => {
    const res = await http('GET', url('/metadata'));
    expect(res.json).toMatchObject({ name: expect.any(String), description: expect.any(String), version: expect.any(String), readme_content: null });
  });

  it('GET /schema has action, observation and state objects', async () => {
    const { json } = await http('GET', url('/schema'));
    expect(json.action).toMatchObject({ type: 'object', required: ['tool_name'] });
    expect(json.observation).toMatchObject({ type: 'object' });
    expect(json.state).toMatchObject({ type: 'object', additionalProperties: true });
  });

  it('GET /openapi.json: info.version a string, paths with /reset, /step and /state', async () => {
    const { json } = await http('GET', url('/openapi.json'));
    expect(typeof json.info.version).toBe('string');
    expect(Object.keys(json.paths)).toEqual(expect.arrayContaining(['/reset', '/step', '/state', '/mcp', '/v1/episodes']));
  });

  it('POST /mcp with {} answers 200 with "jsonrpc":"2.0"', async () => {
    const res = await http('POST', url('/mcp'), {});
    expect(res.status).toBe(200);
    expect(res.json.jsonrpc).toBe('2.0');
  });
});

describe('POST /reset, /step and GET /state', () => {
  it('POST /reset with {} (or no body) → 200 with the envelope; task info in observation.metadata', async () => {
    for (const body of [{}, undefined]) {
      const res = await http('POST', url('/reset'), body);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ observation: { metadata: expect.any(Object) }, reward: 0, done: false });
      expect(res.json.observation.metadata).toMatchObject({ episode_id: expect.any(String), task_id: 'easy_mnist', seed: 42, task: { target_value: 0.96 } });
    }
  });

  it('POST /step acts on the episode_id it names, else on the last /reset of the tenant', async () => {
    const headers = { 'x-tenant-id': 'http-tenant' };
    const none = await http('POST', url('/step'), { action: { tool_name: 'get_training_status' } }, headers);
    expect(none.status).toBe(409);
    expect(none.json.detail).toContain('POST /reset first');

    const a = (await http('POST', url('/reset'), { task_id: 'hard_cifar', seed: 3 }, headers)).json.observation.metadata.episode_id;
    const configured = await http('POST', url('/step'), { action: { type: 'call_tool', tool_name: 'configure_training', arguments: { dropout: 0.2 } } }, headers);
    expect(configured.status).toBe(200);
    expect(configured.json.observation).toMatchObject({ tool_name: 'configure_training', error: null, result: { data: { step_count: 1, task_id: 'hard_cifar' } } });
    expect(configured.json).toMatchObject({ reward: expect.any(Number), done: false });

    const b = (await http('POST', url('/reset'), {}, headers)).json.observation.metadata.episode_id;
    const explicit = await http('POST', url('/step'), { action: { tool_name: 'run_epochs', arguments: { num_epochs: 2 } }, episode_id: a, timeout_s: 60, request_id: 'r-1' }, headers);
    expect(explicit.json.observation.result.data).toMatchObject({ task_id: 'hard_cifar', step_count: 2, epochs_just_trained: 2 });

    expect((await http('GET', url(`/state?episode_id=${a}`), undefined, headers)).json).toMatchObject({ episode_id: a, step_count: 2 });
    expect((await http('GET', url('/state'), undefined, headers)).json).toMatchObject({ episode_id: b, step_count: 0 });
    // Another tenant sees neither.
    expect((await http('GET', url('/state'), undefined, { 'x-tenant-id': 'someone-else' })).json).toEqual({ episode_id: null, step_count: 0 });
    const foreign = await http('POST', url('/step'), { action: { tool_name: 'submit_model' }, episode_id: a }, { 'x-tenant-id': 'someone-else' });
    expect(foreign.status).toBe(404);
  });

  it('a repeated request_id replays the first result (no second step)', async () => {
    const headers = { 'x-tenant-id': 'replay' };
    const id = (await http('POST', url('/reset'), {}, headers)).json.observation.metadata.episode_id;
    const first = await http('POST', url('/step'), { action: { tool_name: 'configure_training' }, request_id: 'same' }, headers);
    const again = await http('POST', url('/step'), { action: { tool_name: 'configure_training' }, request_id: 'same' }, headers);
    expect(again.json).toEqual(first.json);
    expect((await http('GET', url(`/state?episode_id=${id}`), undefined, headers)).json.step_count).toBe(1);
  });

  it('list_tools over /step: snake_case input_schema, not a step, needs no episode', async () => {
    const res = await http('POST', url('/step'), { action: { type: 'list_tools' } }, { 'x-tenant-id': 'lister' });
    expect(res.status).toBe(200);
    expect(res.json.observation.tools).toHaveLength(6);
    expect(res.json.observation.tools[1]).toEqual({ name: 'run_epochs', description: expect.any(String), input_schema: expect.objectContaining({ type: 'object' }) });
  });

  it('invalid actions → 422 with pydantic-style detail, loc relative to the action', async () => {
    const missingTool = await http('POST', url('/step'), { action: { type: 'call_tool' } });
    expect(missingTool.status).toBe(422);
    expect(missingTool.json.detail).toEqual([expect.objectContaining({ type: 'missing', loc: ['tool_name'], msg: 'Field required' })]);
    const extra = await http('POST', url('/step'), { action: { tool_name: 'x', parameters: {} } });
    expect(extra.json.detail).toEqual([expect.objectContaining({ type: 'extra_forbidden', loc: ['parameters'] })]);
    const noAction = await http('POST', url('/step'), { request_id: 'x' });
    expect(noAction.status).toBe(422);
    expect(noAction.json.detail).toEqual([expect.objectContaining({ type: 'missing', loc: ['body', 'action'] })]);
    const badTimeout = await http('POST', url('/step'), { action: { type: 'list_tools' }, timeout_s: 0 });
    expect(badTimeout.json.detail[0]).toMatchObject({ type: 'greater_than', loc: ['body', 'timeout_s'] });
  });

  it('unknown task → 422 naming the valid ones (no silent fallback); seed < 0 → 422', async () => {
    const unknown = await http('POST', url('/reset'), { task_id: 'imagenet' });
    expect(unknown.status).toBe(422);
    expect(unknown.json.detail[0]).toMatchObject({ type: 'value_error', loc: ['body', 'task_id'], input: 'imagenet' });
    expect(unknown.json.detail[0].msg).toContain('easy_mnist, medium_fashion, hard_cifar');
    const seed = await http('POST', url('/reset'), { seed: -1 });
    expect(seed.status).toBe(422);
    expect(seed.json.detail[0]).toMatchObject({ type: 'greater_than_equal', loc: ['body', 'seed'], input: -1 });
    const long = await http('POST', url('/reset'), { episode_id: 'x'.repeat(256) });
    expect(long.status).toBe(422);
  });

  it('an unknown episode_id on /step → 404; on /state → 404', async () => {
    expect((await http('POST', url('/step'), { action: { tool_name: 'submit_model' }, episode_id: 'no-such-episode' })).status).toBe(404);
    expect((await http('GET', url('/state?episode_id=no-such-episode'))).status).toBe(404);
  });
});

describe('bad input never hurts the server', () => {
  it('malformed JSON → 422 json_invalid; wrong content type → 415; oversized → 413; unknown route → 404', async () => {
    const malformed = await http('POST', url('/reset'), '{"task_id": ');
    expect(malformed.status).toBe(422);
    expect(malformed.json.detail[0]).toMatchObject({ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error' });
    expect(malformed.json.detail[0].ctx.error).toMatch(/^Invalid JSON/);

    const text = await http('POST', url('/step'), 'action', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.json.detail).toContain('application/json');

    const big = await http('POST', url('/reset'), { task_id: 'easy_mnist', padding: 'x'.repeat(8192) });
    expect(big.status).toBe(413);
    expect(big.json.detail).toContain('4096 bytes');

    const route = await http('GET', url('/nowhere'));
    expect(route.status).toBe(404);
    expect(route.json).toEqual({ detail: 'Not Found' });

    const array = await http('POST', url('/reset'), [1, 2]);
    expect(array.status).toBe(422);

    expect((await http('GET', url('/health'))).json).toEqual({ status: 'healthy' });
  });

  it('an invalid tenant header → 400', async () => {
    const res = await http('POST', url('/reset'), {}, { 'x-tenant-id': '../etc' });
    expect(res.status).toBe(400);
    expect(res.json.detail).toContain('x-tenant-id');
  });
});
