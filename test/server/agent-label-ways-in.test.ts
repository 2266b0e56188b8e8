import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RestEnvironment } from '../../layers/agent/src';
import { STEP_REASON_MAX_LENGTH } from '../../layers/core/src';
import { FrameClient, http, storedServerForSuite } from './harness';

/**
 * The agent label (on creation) and the step reason (on a call) through every way in of the
 * local server, read back from the stored record (dynalite + s3rver) and the listing.
 */

const LABEL = { policy: 'llm', model: 'gpt-4o-mini', version: 'prompt-7' };
const TOO_LONG_REASON = 'x'.repeat(STEP_REASON_MAX_LENGTH + 1);

describe('agent label and step reason on every way in (stored service)', () => {
  const server = storedServerForSuite();

  async function stored(episodeId: string) {
    const res = await http('GET', `${server.base}/v1/episodes/${episodeId}`);
    expect(res.status).toBe(200);
    return res.json;
  }

  async function listed(episodeId: string) {
    const res = await http('GET', `${server.base}/v1/episodes?limit=100`);
    return res.json.items.find((e: { episode_id: string }) => e.episode_id === episodeId);
  }

  it('REST: POST /v1/episodes {agent} and a step {reason}; both stored, returned and listed', async () => {
    const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist', seed: 3, agent: LABEL });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ agent: LABEL, record: { agent: LABEL } });
    const id = created.json.episode_id;
    const step = await http('POST', `${server.base}/v1/episodes/${id}/steps`, {
      tool: 'configure_training',
      arguments: { optimizer: 'adam', learning_rate: 0.001 },
      reason: 'adam at 1e-3 is a safe start\nthen train',
      request_id: 'rest-reason-1',
    });
    expect(step.status).toBe(200);
    // A retried request_id replays the first result; the stored reason stays the first's.
    const retried = await http('POST', `${server.base}/v1/episodes/${id}/steps`, {
      tool: 'configure_training',
      arguments: { optimizer: 'adam', learning_rate: 0.001 },
      reason: 'another reason',
      request_id: 'rest-reason-1',
    });
    expect(retried.json.replayed).toBe(true);
    const record = (await stored(id)).record;
    expect(record.agent).toEqual(LABEL);
    expect(record.steps.map((s: { reason?: string }) => s.reason)).toEqual(['adam at 1e-3 is a safe start\nthen train']);
    expect((await listed(id)).agent).toEqual(LABEL);
  });

  it('REST refuses a bad label or reason with a 400 naming the field, and creates or spends nothing', async () => {
    const before = (await http('GET', `${server.base}/v1/episodes?limit=100`)).json.items.length;
    for (const agent of [{ policy: '' }, { policy: 'a\u001b[31m' }, { policy: 'p', extra: 1 }, { model: 'm' }, 'llm', { policy: 'p'.repeat(65) }]) {
      const res = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist', agent });
      expect(res.status).toBe(400);
      expect(res.json.error.message).toMatch(/agent/);
    }
    expect((await http('GET', `${server.base}/v1/episodes?limit=100`)).json.items.length).toBe(before);
    const id = (await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' })).json.episode_id;
    for (const reason of [TOO_LONG_REASON, 'bell\u0007', 42, { text: 'x' }]) {
      const res = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'get_training_status', reason });
      expect(res.status).toBe(400);
      expect(res.json.error.message).toMatch(/reason/);
    }
    const episode = await stored(id);
    expect(episode).toMatchObject({ step_count: 0, agent: null });
    expect(episode.record).not.toHaveProperty('agent');
  });

  it('OpenEnv HTTP: /reset {agent} and /step with action.reason (or action.metadata.reason)', async () => {
    const reset = await http('POST', `${server.base}/reset`, { task_id: 'easy_mnist', seed: 4, agent: { policy: 'openenv-agent' } });
    expect(reset.status).toBe(200);
    const id = reset.json.observation.metadata.episode_id;
    const own = { type: 'call_tool', tool_name: 'get_training_status', arguments: {}, reason: 'look first' };
    expect((await http('POST', `${server.base}/step`, { action: own, episode_id: id })).status).toBe(200);
    const viaMetadata = { type: 'call_tool', tool_name: 'get_training_status', arguments: {}, metadata: { reason: 'look again', trace: 'abc' } };
    expect((await http('POST', `${server.base}/step`, { action: viaMetadata, episode_id: id })).status).toBe(200);
    const bad = await http('POST', `${server.base}/step`, { action: { ...own, reason: TOO_LONG_REASON }, episode_id: id });
    expect(bad.status).toBe(422);
    expect(bad.json.detail[0].loc).toEqual(['reason']);
    const badLabel = await http('POST', `${server.base}/reset`, { task_id: 'easy_mnist', agent: { policy: 'p', model: '' } });
    expect(badLabel.status).toBe(422);
    expect(badLabel.json.detail[0].loc).toEqual(['body', 'agent', 'model']);

    const episode = await stored(id);
    expect(episode.agent).toEqual({ policy: 'openenv-agent' });
    expect(episode.record.steps.map((s: { reason?: string }) => s.reason)).toEqual(['look first', 'look again']);
  });

  it('OpenEnv WebSocket: a reset frame with agent, a step frame with the action reason, a bad one refused with VALIDATION_ERROR', async () => {
    const ws = await FrameClient.connect(`${server.wsBase}/ws`);
    try {
      const reset = await ws.reset({ task_id: 'easy_mnist', agent: { policy: 'ws-agent', version: '2' } });
      expect(reset.type).toBe('observation');
      const id = reset.data.observation.metadata.episode_id;
      const step = await ws.request({ type: 'step', data: { type: 'call_tool', tool_name: 'get_training_status', arguments: {}, reason: 'status over ws' } });
      expect(step.type).toBe('observation');
      const bad = await ws.request({ type: 'step', data: { type: 'call_tool', tool_name: 'get_training_status', reason: ['not', 'text'] } });
      expect(bad).toMatchObject({ type: 'error', data: { code: 'VALIDATION_ERROR' } });
      expect(JSON.stringify(bad.data)).toContain('reason');
      const badReset = await ws.reset({ task_id: 'easy_mnist', agent: { policy: 'p', nested: { deep: true } } });
      expect(badReset).toMatchObject({ type: 'error', data: { code: 'VALIDATION_ERROR' } });
      const episode = await stored(id);
      expect(episode.agent).toEqual({ policy: 'ws-agent', version: '2' });
      expect(episode.record.steps.map((s: { reason?: string }) => s.reason)).toEqual(['status over ws']);
    } finally {
      ws.close();
    }
  });

  it('OpenEnv JSON-RPC: openenv/session/create {agent}, tools/call with params._meta.reason', async () => {
    const rpc = (body: unknown) => http('POST', `${server.base}/mcp`, body);
    const created = await rpc({ jsonrpc: '2.0', id: 1, method: 'openenv/session/create', params: { task_id: 'easy_mnist', agent: { policy: 'rpc-agent' } } });
    const id = created.json.result.session_id;
    const call = await rpc({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'get_training_status', arguments: {}, session_id: id, _meta: { reason: 'rpc reason' } },
    });
    expect(call.json.result).toBeDefined();
    const bad = await rpc({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_training_status', session_id: id, _meta: { reason: TOO_LONG_REASON } } });
    expect(bad.json.error).toMatchObject({ code: -32602, message: expect.stringContaining('_meta.reason') });
    const badLabel = await rpc({ jsonrpc: '2.0', id: 4, method: 'openenv/session/create', params: { task_id: 'easy_mnist', agent: { policy: 7 } } });
    expect(badLabel.json.error).toMatchObject({ code: -32602, message: expect.stringContaining('agent.policy') });
    const episode = await stored(id);
    expect(episode.agent).toEqual({ policy: 'rpc-agent' });
    expect(episode.record.steps.map((s: { reason?: string }) => s.reason)).toEqual(['rpc reason']);
  });

  it("the agent layer's RestEnvironment: a labelled session's calls and reasons come back in the record it reads", async () => {
    const environment = new RestEnvironment({ url: server.base });
    const session = await environment.startEpisode({ taskId: 'easy_mnist', seed: 9, agent: { policy: 'baseline', version: 'rest' } });
    await session.call('configure_training', { optimizer: 'adam', learning_rate: 0.001 }, { reason: 'start with adam' });
    await session.call('get_training_status', {}, { reason: `${'long '.repeat(300)}` });
    const record = await session.readRecord();
    await session.close();
    expect(record.agent).toEqual({ policy: 'baseline', version: 'rest' });
    expect(record.steps[0]!.reason).toBe('start with adam');
    // The client cuts an over-long reason to the limit rather than having the step refused.
    expect(record.steps[1]!.reason!.length).toBe(STEP_REASON_MAX_LENGTH);
    expect((await listed(session.episodeId)).agent).toEqual({ policy: 'baseline', version: 'rest' });
  });

  it('standard MCP: start_episode {agent}, a tool call with _meta.reason; a bad reason is refused without spending a step', async () => {
    const client = new Client({ name: 'label-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.base}/mcp/v1`));
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools[0].inputSchema).toMatchObject({ properties: { agent: { required: ['policy'] } } });
      const start = await client.callTool({ name: 'start_episode', arguments: { task_id: 'easy_mnist', agent: { policy: 'mcp-agent', model: 'm1' } } });
      const id = (start.structuredContent as { episode_id: string }).episode_id;
      const step = await client.callTool({ name: 'get_training_status', arguments: {}, _meta: { reason: 'mcp reason' } });
      expect(step.isError).toBe(false);
      const bad = (await client.callTool({ name: 'get_training_status', arguments: {}, _meta: { reason: TOO_LONG_REASON } })) as CallToolResult;
      expect(bad.isError).toBe(true);
      expect(bad.structuredContent).toMatchObject({ error: { code: 'invalid_request', field: '_meta.reason' } });
      const badStart = (await client.callTool({ name: 'start_episode', arguments: { task_id: 'easy_mnist', agent: { policy: 'p\n' } } })) as CallToolResult;
      expect(badStart.isError).toBe(true);
      expect(JSON.stringify(badStart.structuredContent)).toContain('agent');
      const episode = await stored(id);
      expect(episode).toMatchObject({ agent: { policy: 'mcp-agent', model: 'm1' }, step_count: 1 });
      expect(episode.record.steps.map((s: { reason?: string }) => s.reason)).toEqual(['mcp reason']);
      await transport.terminateSession();
    } finally {
      await client.close();
    }
  });
});
