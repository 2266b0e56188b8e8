import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeTools } from '../../layers/core/src';
import { http, SCRIPT, startServer, storedServerForSuite, type RunningServer } from './harness';

/** Standard MCP (Streamable HTTP, with initialize) through the official SDK client. */

async function connect(server: Pick<RunningServer, 'base'>, headers: Record<string, string> = {}) {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${server.base}/mcp/v1`), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

const payload = (result: unknown) => (result as CallToolResult).structuredContent as any;

describe('a whole episode over standard MCP (stored service: dynalite + s3rver)', () => {
  const server = storedServerForSuite();

  it('initializes, lists start_episode + the six tools with the core schemas, plays and submits', async () => {
    const { client, transport } = await connect(server);
    expect(client.getServerVersion()).toMatchObject({ name: 'ml-trainer-env' });
    expect(client.getInstructions()).toContain('start_episode');

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['start_episode', ...describeTools().map((t) => t.name)]);
    for (const core of describeTools()) {
      expect(tools.find((t) => t.name === core.name)!.inputSchema).toEqual(core.input_schema);
    }
    expect(tools[0].inputSchema).toMatchObject({ properties: { task_id: { enum: ['easy_mnist', 'medium_fashion', 'hard_cifar'] } }, required: ['task_id'] });

    const before = await client.callTool({ name: 'run_epochs', arguments: {} });
    expect(before.isError).toBe(true);
    expect(payload(before).error.message).toContain('start_episode');

    const start = await client.callTool({ name: 'start_episode', arguments: { task_id: 'easy_mnist', seed: 5 } });
    expect(start.isError).toBe(false);
    const episodeId = payload(start).episode_id;
    expect(payload(start)).toMatchObject({ task_id: 'easy_mnist', seed: 5, task: { name: 'MNIST Digit Classifier' }, observation: { step_count: 0 } });

    let last: any;
    for (const [i, call] of SCRIPT.entries()) {
      const result = await client.callTool({ name: call.tool, arguments: call.arguments });
      expect(result.isError).toBe(false);
      last = payload(result);
      expect(last).toMatchObject({ episode_id: episodeId, step: i + 1, tool: call.tool, error: null, reward: expect.any(Number) });
      expect(JSON.parse((result.content as { text: string }[])[0].text)).toEqual(last);
    }
    expect(last.done).toBe(true);
    expect(last.grade.score).toBeGreaterThan(0);

    const episode = await http('GET', `${server.base}/v1/episodes/${episodeId}`);
    expect(episode.json).toMatchObject({ status: 'submitted', step_count: 5, grade: { score: last.grade.score } });
    await transport.terminateSession();
    await client.close();
  });
});

describe('standard MCP behaviour', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ maxSessions: 2 });
  });
  afterAll(() => server.close());

  it('invalid arguments and unknown tools reach the environment and count as steps (isError results)', async () => {
    const { client, transport } = await connect(server);
    await client.callTool({ name: 'start_episode', arguments: { task_id: 'hard_cifar' } });
    const range = await client.callTool({ name: 'configure_training', arguments: { batch_size: 100 } });
    expect(range.isError).toBe(true);
    expect(payload(range)).toMatchObject({ step: 1, error: { code: 'invalid_arguments', field: 'batch_size' } });
    const unknown = await client.callTool({ name: 'fly', arguments: {} });
    expect(payload(unknown)).toMatchObject({ step: 2, error: { code: 'unknown_tool' } });
    const badStart = await client.callTool({ name: 'start_episode', arguments: { task_id: 'imagenet' } });
    expect(badStart.isError).toBe(true);
    expect(payload(badStart).error).toMatchObject({ code: 'unknown_task', message: expect.stringContaining('easy_mnist') });
    const noTask = await client.callTool({ name: 'start_episode', arguments: {} });
    expect(noTask.isError).toBe(true);
    await transport.terminateSession();
    await client.close();
  });

  it('sends progress notifications while run_epochs trains, when asked', async () => {
    const { client, transport } = await connect(server);
    await client.callTool({ name: 'start_episode', arguments: { task_id: 'easy_mnist' } });
    await client.callTool({ name: 'configure_training', arguments: {} });
    const progress: { progress: number; total?: number }[] = [];
    const result = await client.callTool({ name: 'run_epochs', arguments: { num_epochs: 3 } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(payload(result).data.epochs_just_trained).toBe(3);
    expect(progress.map((p) => [p.progress, p.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    await transport.terminateSession();
    await client.close();
  });

  it('never sends NaN or Infinity, also in progress messages of a diverging run', async () => {
    const { client, transport } = await connect(server);
    await client.callTool({ name: 'start_episode', arguments: { task_id: 'easy_mnist' } });
    await client.callTool({ name: 'configure_training', arguments: { learning_rate: 5 } });
    const messages: string[] = [];
    const result = await client.callTool({ name: 'run_epochs', arguments: { num_epochs: 2 } }, undefined, { onprogress: (p) => messages.push(String(p.message)) });
    const text = (result.content as { text: string }[])[0].text;
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(payload(result).data).toMatchObject({ is_diverged: true, train_loss: null });
    expect(messages.join(' ')).not.toMatch(/NaN|Infinity/);
    await transport.terminateSession();
    await client.close();
  });

  it('sessions are per tenant; requests without a session or with an unknown one are refused', async () => {
    const { client, transport } = await connect(server, { 'x-tenant-id': 'alice' });
    const sessionId = transport.sessionId!;
    const asBob = await fetch(`${server.base}/mcp/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'x-tenant-id': 'bob' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(asBob.status).toBe(404);
    const noSession = await http('POST', `${server.base}/mcp/v1`, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(noSession.status).toBe(400);
    expect(noSession.json.error.message).toContain('initialize');
    const malformed = await http('POST', `${server.base}/mcp/v1`, '{"jsonrpc":');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe(-32700);
    await transport.terminateSession();
    await client.close();
  });

  it('counts sessions against maxSessions and frees them on DELETE', async () => {
    const a = await connect(server);
    const b = await connect(server);
    await expect(connect(server)).rejects.toThrow();
    await a.transport.terminateSession();
    await a.client.close();
    const c = await connect(server);
    await Promise.all([b, c].map(async (s) => {
      await s.transport.terminateSession();
      await s.client.close();
    }));
    expect((await http('GET', `${server.base}/health`)).json).toEqual({ status: 'healthy' });
  });

  it('closes sessions left idle (a client gone without DELETE)', async () => {
    // Long enough that a loaded machine cannot expire the session between initialize and its notification.
    const quick = await startServer({ sessionIdleMs: 1_000 });
    try {
      const { client, transport } = await connect(quick);
      const sessionId = transport.sessionId!;
      await client.close();
      await new Promise((r) => setTimeout(r, 2_500));
      const res = await fetch(`${quick.base}/mcp/v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(res.status).toBe(404);
    } finally {
      await quick.close();
    }
  });
});

describe('a failed initialize', () => {
  it('leaves no session and frees its slot', async () => {
    const server = await startServer({ maxSessions: 1 });
    try {
      // Without the Accept header the transport refuses (406): the slot must come back.
      const refused = await fetch(`${server.base}/mcp/v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
      });
      expect(refused.status).toBe(406);
      const { client, transport } = await connect(server);
      expect((await client.listTools()).tools).toHaveLength(7);
      await transport.terminateSession();
      await client.close();
    } finally {
      await server.close();
    }
  });
});
