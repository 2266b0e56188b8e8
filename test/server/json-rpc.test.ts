import WebSocket from 'ws';
import { http, SCRIPT, startServer, storedServerForSuite, type RunningServer } from './harness';

/** OpenEnv's JSON-RPC 2.0 at POST /mcp and WebSocket /mcp (§6). */

const rpc = (server: Pick<RunningServer, 'base'>, body: unknown, headers: Record<string, string> = {}) => http('POST', `${server.base}/mcp`, body, headers);
const request = (method: string, params?: Record<string, unknown>, id: number | string = 1) => ({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });

describe('a whole episode over JSON-RPC POST /mcp (stored service: dynalite + s3rver)', () => {
  const server = storedServerForSuite();

  it('session/create starts an episode; tools/call steps it; session/close ends the session', async () => {
    const list = await rpc(server, request('tools/list'));
    expect(list.status).toBe(200);
    expect(Object.keys(list.json)).toEqual(['jsonrpc', 'id', 'result']);
    const tools = list.json.result.tools;
    expect(tools).toHaveLength(6);
    for (const tool of tools) {
      expect(Object.keys(tool).sort()).toEqual(['annotations', 'description', 'execution', 'icons', 'inputSchema', 'meta', 'name', 'outputSchema', 'title']);
      expect(tool.inputSchema.type).toBe('object');
    }

    const created = await rpc(server, request('openenv/session/create', { task_id: 'medium_fashion', seed: 11 }, 'c'));
    expect(created.json).toMatchObject({ jsonrpc: '2.0', id: 'c', result: { session_id: expect.any(String), task_id: 'medium_fashion', seed: 11 } });
    const session = created.json.result.session_id;
    expect(created.json.result.episode_id).toBe(session);

    let last: any;
    for (const [i, call] of SCRIPT.entries()) {
      const res = await rpc(server, request('tools/call', { name: call.tool, arguments: call.arguments, session_id: session }, i + 10));
      expect(res.status).toBe(200);
      last = res.json.result;
      expect(last).toMatchObject({ is_error: false, meta: { episode_id: session, step: i + 1, reward: expect.any(Number) } });
      expect(Object.keys(last).sort()).toEqual(['content', 'data', 'is_error', 'meta', 'structured_content']);
      expect(last.content[0].text).toBe(JSON.stringify(last.data));
    }
    expect(last.meta.done).toBe(true);
    expect(last.data.grade.score).toBeGreaterThan(0);

    expect((await rpc(server, request('tools/list', { session_id: session }))).json.result.tools).toHaveLength(6);
    const closed = await rpc(server, request('openenv/session/close', { session_id: session }));
    expect(closed.json.result).toEqual({ session_id: session, closed: true });
  });
});

describe('JSON-RPC error codes', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ bodyLimit: 2048 });
  });
  afterAll(() => server.close());

  it('-32700 parse error (and for a batch), id null, HTTP 200', async () => {
    const parse = await rpc(server, '{"jsonrpc": "2.0",');
    expect(parse.status).toBe(200);
    expect(parse.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error/), data: null } });
    expect((await rpc(server, [request('tools/list')])).json.error.code).toBe(-32700);
    expect((await rpc(server, '')).json.error.code).toBe(-32700);
    // JSON-RPC over HTTP takes application/json only: a text/plain POST is what any web page may send without asking (issue 12).
    const plain = await rpc(server, JSON.stringify(request('tools/list')), { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining('application/json') } });
  });

  it('-32600 invalid request: bad envelope, extra keys, params not an object', async () => {
    for (const body of [{}, { jsonrpc: '1.0', method: 'tools/list', id: 1 }, { jsonrpc: '2.0', method: 'tools/list', id: 1, extra: true }, { jsonrpc: '2.0', method: 'tools/list', params: [1], id: 1 }, 42]) {
      const res = await rpc(server, body);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/^Invalid request: /) } });
      expect(res.json.error).toHaveProperty('data');
    }
  });

  it('-32601 method not found, initialize included (with a hint to standard MCP)', async () => {
    const init = await rpc(server, request('initialize', { protocolVersion: '2025-06-18' }, 9));
    expect(init.json).toEqual({ jsonrpc: '2.0', id: 9, error: { code: -32601, message: 'Method not found: initialize', data: { hint: expect.stringContaining('/mcp/v1') } } });
    expect((await rpc(server, request('ping'))).json.error).toEqual({ code: -32601, message: 'Method not found: ping', data: null });
  });

  it('-32602 invalid params: missing name, no session, unknown session, wrong types, unknown task', async () => {
    expect((await rpc(server, request('tools/call', {}))).json.error).toMatchObject({ code: -32602, message: "Missing 'name' in params" });
    expect((await rpc(server, request('tools/call', { name: 'submit_model' }))).json.error).toMatchObject({ code: -32602, message: expect.stringContaining('session_id') });
    expect((await rpc(server, request('tools/call', { name: 'submit_model', session_id: 'nope' }))).json.error).toMatchObject({ code: -32602, message: 'Unknown session_id: nope' });
    expect((await rpc(server, request('tools/list', { session_id: 'nope' }))).json.error.code).toBe(-32602);
    expect((await rpc(server, request('openenv/session/close', {}))).json.error).toMatchObject({ code: -32602, message: "Missing 'session_id' in params" });
    expect((await rpc(server, request('openenv/session/close', { session_id: 'nope' }))).json.error).toMatchObject({ code: -32602, message: 'Unknown session_id: nope' });
    const badArgs = await rpc(server, request('tools/call', { name: 'run_epochs', arguments: 'five', session_id: 'x' }));
    expect(badArgs.json.error).toMatchObject({ code: -32602, data: { errors: [expect.objectContaining({ loc: ['params', 'arguments'] })] } });
    const unknownTask = await rpc(server, request('openenv/session/create', { task_id: 'imagenet' }));
    expect(unknownTask.json.error).toMatchObject({ code: -32602, message: expect.stringContaining('easy_mnist'), data: { code: 'unknown_task' } });
    const badSeed = await rpc(server, request('openenv/session/create', { seed: 1.5 }));
    expect(badSeed.json.error.code).toBe(-32602);
  });

  it('a tool call the environment rejects is a step: a result with is_error, not a JSON-RPC error', async () => {
    const session = (await rpc(server, request('openenv/session/create'))).json.result.session_id;
    const unknown = await rpc(server, request('tools/call', { name: 'nope', session_id: session }));
    expect(unknown.json.result).toMatchObject({ is_error: true, data: { error: { code: 'unknown_tool' }, step_count: 1 } });
    const range = await rpc(server, request('tools/call', { name: 'adjust_learning_rate', arguments: { new_lr: -1 }, session_id: session }));
    expect(range.json.result).toMatchObject({ is_error: true, data: { error: { code: 'invalid_arguments', field: 'new_lr' } }, meta: { step: 2 } });
  });

  it('a notification (no id) still gets a response with id null; an oversized body → 413; healthy after', async () => {
    const note = await rpc(server, { jsonrpc: '2.0', method: 'tools/list' });
    expect(note.json.id).toBeNull();
    expect(note.json.result.tools).toHaveLength(6);
    const big = await rpc(server, request('tools/list', { padding: 'x'.repeat(4096) }));
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining('2048 bytes') } });
    expect((await http('GET', `${server.base}/health`)).json).toEqual({ status: 'healthy' });
  });

  it('WebSocket /mcp: bare JSON-RPC frames, one session (episode) per connection', async () => {
    const socket = new WebSocket(`${server.wsBase}/mcp`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const replies: any[] = [];
    socket.on('message', (data) => replies.push(JSON.parse(data.toString())));
    const next = async () => {
      while (replies.length === 0) await new Promise((r) => setTimeout(r, 5));
      return replies.shift();
    };
    socket.send('not json');
    expect((await next()).error.code).toBe(-32700);
    socket.send(JSON.stringify(request('tools/call', { name: 'configure_training' }, 1)));
    expect((await next()).error.code).toBe(-32602);
    socket.send(JSON.stringify(request('openenv/session/create', { task_id: 'easy_mnist' }, 2)));
    const session = (await next()).result.session_id;
    socket.send(JSON.stringify(request('tools/call', { name: 'configure_training' }, 3)));
    expect((await next()).result.meta).toMatchObject({ episode_id: session, step: 1 });
    socket.send(JSON.stringify(request('openenv/session/create', {}, 4)));
    expect((await next()).result.session_id).toBe(session);
    socket.close();
  });
});
