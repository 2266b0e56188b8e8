import { FrameClient, SCRIPT, startServer, storedServerForSuite, type RunningServer } from './harness';

/** OpenEnv's WebSocket /ws session protocol (§5), as the Python EnvClient / MCPToolClient speak it. */

describe('a whole episode over OpenEnv /ws (stored service: dynalite + s3rver)', () => {
  const server = storedServerForSuite();

  it('resets, lists tools (not a step), plays the script, reads the state, closes', async () => {
    const client = await FrameClient.connect(`${server.wsBase}/ws`);
    const reset = await client.reset({ task_id: 'medium_fashion', seed: 7 });
    expect(reset.type).toBe('observation');
    expect(reset.data).toEqual({ observation: { metadata: expect.any(Object) }, reward: 0, done: false });
    const metadata = reset.data.observation.metadata;
    expect(metadata).toMatchObject({ task_id: 'medium_fashion', seed: 7, max_steps: 15, task: { name: 'Fashion Item Classifier', max_epochs: 80 } });
    expect(metadata.observation).toMatchObject({ step_count: 0, remaining_budget: 80, convergence_signal: 'not_started' });

    const listed = await client.request({ type: 'step', data: { type: 'list_tools' } });
    expect(listed.type).toBe('observation');
    expect(Object.keys(listed.data.observation)).toEqual(['tools']);
    expect(listed.data.observation.tools.map((t: { name: string }) => t.name)).toEqual([
      'configure_training',
      'run_epochs',
      'adjust_learning_rate',
      'toggle_augmentation',
      'get_training_status',
      'submit_model',
    ]);
    for (const tool of listed.data.observation.tools) {
      expect(Object.keys(tool).sort()).toEqual(['description', 'input_schema', 'name']);
      expect(tool.input_schema).toMatchObject({ type: 'object', additionalProperties: false });
    }
    expect((await client.request({ type: 'state' })).data.step_count).toBe(0);

    let last: any;
    for (const call of SCRIPT) {
      last = await client.callTool(call.tool, call.arguments);
      expect(last.type).toBe('observation');
      const observation = last.data.observation;
      expect(Object.keys(observation).sort()).toEqual(['error', 'result', 'tool_name']);
      expect(observation.tool_name).toBe(call.tool);
      expect(observation.error).toBeNull();
      const result = observation.result;
      expect(result.is_error).toBe(false);
      expect(result.structured_content).toEqual(result.data);
      expect(result.content).toEqual([{ type: 'text', text: JSON.stringify(result.data), annotations: null, meta: null }]);
      expect(typeof last.data.reward).toBe('number');
    }
    expect(last.data.done).toBe(true);
    expect(last.data.observation.result.data.grade.score).toBeGreaterThan(0);

    const state = await client.request({ type: 'state' });
    expect(state).toEqual({ type: 'state', data: expect.objectContaining({ episode_id: metadata.episode_id, step_count: 5, status: 'submitted', done: true }) });

    // After the end every tool answers an error (episode_over): not a step.
    const over = await client.callTool('get_training_status');
    expect(over.data.done).toBe(true);
    expect(over.data.observation.error).toEqual({ error_type: 'execution_error', message: expect.stringContaining('episode is over') });

    client.sendRaw(JSON.stringify({ type: 'close' }));
    expect((await client.closed).code).toBe(1000);
  });

  it('keeps one session across resets: each reset starts a new episode', async () => {
    const client = await FrameClient.connect(`${server.wsBase}/ws`);
    const first = (await client.reset()).data.observation.metadata;
    expect(first.task_id).toBe('easy_mnist');
    await client.callTool('configure_training', {});
    const second = (await client.reset({ task_id: 'hard_cifar' })).data.observation.metadata;
    expect(second.episode_id).not.toBe(first.episode_id);
    expect((await client.request({ type: 'state' })).data).toMatchObject({ episode_id: second.episode_id, step_count: 0, task_id: 'hard_cifar' });
    client.close();
  });
});

describe('/ws frames and error codes', () => {
  let server: RunningServer;
  let client: FrameClient;
  beforeAll(async () => {
    server = await startServer({ maxSessions: 3 });
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    client = await FrameClient.connect(`${server.wsBase}/ws`);
  });
  afterEach(() => client.close());

  it('INVALID_JSON, UNKNOWN_TYPE and VALIDATION_ERROR keep the session open', async () => {
    client.sendRaw('{not json');
    expect(await client.next()).toEqual({ type: 'error', data: { code: 'INVALID_JSON', message: expect.stringMatching(/^Invalid JSON: /) } });
    expect(await client.request({ type: 'dance' })).toEqual({ type: 'error', data: { code: 'UNKNOWN_TYPE', message: 'Unknown message type: dance' } });
    expect((await client.request({ data: {} })).data.code).toBe('UNKNOWN_TYPE');
    expect((await client.request([1, 2])).data.code).toBe('UNKNOWN_TYPE');

    const extra = await client.request({ type: 'state', extra: 1 });
    expect(extra.data).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ type: 'extra_forbidden', loc: ['extra'] }] });
    const noData = await client.request({ type: 'step' });
    expect(noData.data).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ type: 'missing', loc: ['data'] }] });
    const noTool = await client.request({ type: 'step', data: { type: 'call_tool' } });
    expect(noTool.data).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ type: 'missing', loc: ['tool_name'] }] });
    const badArgs = await client.request({ type: 'step', data: { tool_name: 'run_epochs', arguments: [5] } });
    expect(badArgs.data).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ loc: ['arguments'] }] });
    const extraInAction = await client.request({ type: 'step', data: { type: 'list_tools', tool_name: 'x' } });
    expect(extraInAction.data).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ type: 'extra_forbidden', loc: ['tool_name'] }] });
    const wrongType = await client.request({ type: 'step', data: { type: 'teleport', tool_name: 'x' } });
    expect(wrongType.data).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ type: 'literal_error', loc: ['type'] }] });

    const badSeed = await client.reset({ seed: -1 });
    expect(badSeed.data).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ type: 'greater_than_equal', loc: ['seed'] }] });
    const unknownTask = await client.reset({ task_id: 'imagenet' });
    expect(unknownTask.data.code).toBe('VALIDATION_ERROR');
    expect(unknownTask.data.message).toContain('easy_mnist, medium_fashion, hard_cifar');

    // Still usable.
    expect((await client.reset({ task_id: 'easy_mnist', ignored_kwarg: true })).type).toBe('observation');
  });

  it('a step before any reset is an EXECUTION_ERROR; list_tools and state still work', async () => {
    const step = await client.callTool('get_training_status');
    expect(step.type).toBe('error');
    expect(step.data.code).toBe('EXECUTION_ERROR');
    expect(step.data.message).toContain('reset');
    expect((await client.request({ type: 'step', data: { type: 'list_tools' } })).data.observation.tools).toHaveLength(6);
    expect(await client.request({ type: 'state' })).toEqual({ type: 'state', data: { episode_id: null, step_count: 0 } });
  });

  it('agent errors are steps: unknown tool → tool_not_found, bad arguments → invalid_args, with the data', async () => {
    await client.reset();
    const unknown = await client.callTool('train_harder');
    expect(unknown.data.observation.error).toEqual({ error_type: 'tool_not_found', message: expect.stringContaining('train_harder') });
    expect(unknown.data.observation.result.is_error).toBe(true);
    expect(unknown.data.observation.result.data.step_count).toBe(1);
    const outOfRange = await client.callTool('configure_training', { learning_rate: 50 });
    expect(outOfRange.data.observation.error).toEqual({ error_type: 'invalid_args', message: expect.stringContaining('learning_rate') });
    const wrongType = await client.callTool('run_epochs', { num_epochs: 'five' });
    expect(wrongType.data.observation.error.error_type).toBe('invalid_args');
    expect((await client.request({ type: 'state' })).data.step_count).toBe(3);
  });

  it('never sends NaN or Infinity: a diverged run (lr 5 → NaN loss) travels as null', async () => {
    await client.reset();
    await client.callTool('configure_training', { learning_rate: 5 });
    const diverged = await client.callTool('run_epochs', { num_epochs: 3 });
    const data = diverged.data.observation.result.data;
    expect(data.is_diverged).toBe(true);
    expect(data.train_loss).toBeNull();
    expect(data.convergence_signal).toBe('diverged');
    expect(diverged.data.reward).toBeLessThan(0);
  });

  it('mcp frames run JSON-RPC against this session (a tools/call is a step of its episode)', async () => {
    const none = await client.request({ type: 'mcp', data: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_training_status' } } });
    expect(none).toMatchObject({ type: 'mcp', data: { jsonrpc: '2.0', id: 1, error: { code: -32602 } } });
    const reset = await client.reset();
    const episodeId = reset.data.observation.metadata.episode_id;
    const list = await client.request({ type: 'mcp', data: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    expect(list.data.result.tools[0]).toHaveProperty('inputSchema');
    const created = await client.request({ type: 'mcp', data: { jsonrpc: '2.0', id: 3, method: 'openenv/session/create', params: {} } });
    expect(created.data.result.session_id).toBe(episodeId);
    const call = await client.request({ type: 'mcp', data: { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'configure_training', arguments: {} } } });
    expect(call.data.result).toMatchObject({ is_error: false, meta: { episode_id: episodeId, step: 1 } });
    const closeOwn = await client.request({ type: 'mcp', data: { jsonrpc: '2.0', id: 5, method: 'openenv/session/close', params: { session_id: episodeId } } });
    expect(closeOwn.data.error.code).toBe(-32600);
    expect((await client.request({ type: 'state' })).data.step_count).toBe(1);
  });

  it('answers frames strictly in order, one reply each, even when sent back to back', async () => {
    client.sendRaw(JSON.stringify({ type: 'reset' }));
    client.sendRaw(JSON.stringify({ type: 'step', data: { tool_name: 'configure_training' } }));
    client.sendRaw('oops');
    client.sendRaw(JSON.stringify({ type: 'state' }));
    const replies = [await client.next(), await client.next(), await client.next(), await client.next()];
    expect(replies.map((r) => r.type)).toEqual(['observation', 'observation', 'error', 'state']);
    expect(replies[3].data.step_count).toBe(1);
  });

  it('refuses connections beyond maxSessions with CAPACITY_REACHED and closes them', async () => {
    const others = [await FrameClient.connect(`${server.wsBase}/ws`), await FrameClient.connect(`${server.wsBase}/ws`)];
    const extra = await FrameClient.connect(`${server.wsBase}/ws`);
    expect(await extra.next()).toEqual({
      type: 'error',
      data: { code: 'CAPACITY_REACHED', message: expect.stringContaining('3/3'), active_sessions: 3, max_sessions: 3 },
    });
    await extra.closed;
    others.forEach((o) => o.close());
    await Promise.all(others.map((o) => o.closed));
    // Slots are released on close.
    const again = await FrameClient.connect(`${server.wsBase}/ws`);
    expect((await again.request({ type: 'state' })).type).toBe('state');
    again.close();
  });

  it('refuses an invalid tenant header with SESSION_ERROR', async () => {
    const bad = await FrameClient.connect(`${server.wsBase}/ws`, { 'x-tenant-id': 'no spaces allowed' });
    expect((await bad.next()).data.code).toBe('SESSION_ERROR');
    expect((await bad.closed).code).toBe(1008);
  });

  it('frames larger than the body limit close the connection (1009) and the server stays healthy', async () => {
    const small = await startServer({ bodyLimit: 1024 });
    try {
      const c = await FrameClient.connect(`${small.wsBase}/ws`);
      c.sendRaw(JSON.stringify({ type: 'reset', data: { padding: 'x'.repeat(4096) } }));
      expect((await c.closed).code).toBe(1009);
      const health = await fetch(`${small.base}/health`);
      expect(await health.json()).toEqual({ status: 'healthy' });
    } finally {
      await small.close();
    }
  });
});
