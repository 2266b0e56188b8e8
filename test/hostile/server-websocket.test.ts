import fc from 'fast-check';
import WebSocket from 'ws';
import { clip, forgetStoredState, jsonRpcVerdict, reviveIfDead, serverCase } from './hostile-case';
import { hostileHeaders } from './hostile-http';
import { hostileBodyText, hostileFieldBodyText, type HostileValue } from './hostile-json';
import { hostileServerForSuite, parseJson } from './server-process';
import { countsReport, holds, settings, track, type CaseOutcome } from './tally';

/*
 * The local server's WebSocket interfaces under hostile frames (issue 12 item 10): OpenEnv
 * /ws (every frame kind) and JSON-RPC over WebSocket /mcp. Each frame gets one reply (an
 * error frame if it was wrong) or closes that one socket with 1008/1009/1011; the process
 * stays up; a rejected frame changes no stored state.
 */

const env = hostileServerForSuite();

afterAll(() => console.log(countsReport()));

/** Close codes a server may end one socket with on a bad frame: policy violation, too big, internal error. */
const SOCKET_REFUSALS = new Set([1008, 1009, 1011]);

type Reply = { kind: 'frame'; text: string } | { kind: 'closed'; code: number } | { kind: 'silent' };

/** A connection kept across cases (with an episode started on /ws), reopened after the server closes it. */
class Connection {
  private socket: WebSocket | null = null;
  private replies: Reply[] = [];
  private waiting: ((reply: Reply) => void) | null = null;

  constructor(private readonly path: '/ws' | '/mcp') {}

  private push(reply: Reply): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve(reply);
    } else this.replies.push(reply);
  }

  /** Opens (and on /ws starts an episode) before a case, so that this setup is not taken for the case's doing. */
  async ensureOpen(): Promise<void> {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) await this.open();
  }

  private async open(): Promise<void> {
    const socket = new WebSocket(`ws://127.0.0.1:${env.server.port}${this.path}`);
    this.replies = [];
    socket.on('message', (data) => this.push({ kind: 'frame', text: data.toString() }));
    socket.on('close', (code) => this.push({ kind: 'closed', code }));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.socket = socket;
    if (this.path === '/ws') {
      await this.send(JSON.stringify({ type: 'reset', data: { task_id: 'easy_mnist', seed: 5 } }));
      await this.send(JSON.stringify({ type: 'step', data: { type: 'call_tool', tool_name: 'configure_training', arguments: {} } }));
    }
    forgetStoredState();
  }

  /** Sends one frame and waits for its reply, the socket's close, or silence. */
  async send(text: string, timeoutMs = 10_000): Promise<Reply> {
    await this.ensureOpen();
    this.replies = this.replies.filter((r) => r.kind !== 'frame');
    this.socket!.send(text);
    const queued = this.replies.shift();
    if (queued) return queued;
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve({ kind: 'silent' });
      }, timeoutMs);
      this.waiting = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
    });
  }

  close(): void {
    this.socket?.terminate();
  }
}

/** An OpenEnv /ws reply as a verdict: error frames {type:"error", data:{code, message}}; an internal error counts as a 5xx. */
function openEnvFrameVerdict(reply: Reply, sent: string, closeWasAsked: boolean): CaseOutcome {
  const summary = `${clip(sent, 300)} → ${reply.kind === 'frame' ? clip(reply.text, 300) : reply.kind === 'closed' ? `closed ${reply.code}` : 'no reply'}`;
  if (reply.kind === 'silent') return { verdict: 'server_error', summary: `no reply and no close within 10 s: ${summary}` };
  if (reply.kind === 'closed') {
    if (closeWasAsked && reply.code === 1000) return { verdict: 'accepted', summary };
    return SOCKET_REFUSALS.has(reply.code) ? { verdict: 'rejected', summary } : { verdict: 'rejected', badShape: `socket closed with ${reply.code}`, summary };
  }
  const frame = parseJson(reply.text) as any;
  if (frame?.type === 'error') {
    if (frame.data?.code === 'EXECUTION_ERROR' && frame.data?.error_code === 'internal_error') return { verdict: 'server_error', summary };
    const ok = typeof frame.data?.code === 'string' && typeof frame.data?.message === 'string';
    return { verdict: 'rejected', summary, ...(ok ? {} : { badShape: 'expected {"type": "error", "data": {"code", "message"}}' }) };
  }
  if (frame?.type === 'mcp') return jsonRpcVerdict(frame.data, summary);
  if (frame?.type === 'observation' || frame?.type === 'state') return { verdict: 'accepted', summary };
  return { verdict: 'rejected', badShape: 'not an OpenEnv reply frame', summary };
}

/** One frame case: a dead server revived, the connection (re)opened, then the case itself. */
async function frameCase(connection: Connection, iface: string, call: () => Promise<CaseOutcome>): Promise<void> {
  await reviveIfDead(iface, env);
  await connection.ensureOpen();
  await serverCase(iface, env, call);
}

/** A WebSocket upgrade with the given headers: 101 (closed again at once) or the refusal's status and body. */
function upgrade(path: string, headers: Record<string, string>): Promise<{ status: number; text: string; error?: string } | null> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(`ws://127.0.0.1:${env.server.port}${path}`, { headers });
    } catch {
      resolve(null); // a header the client will not send: not a case
      return;
    }
    socket.on('open', () => {
      socket.close();
      resolve({ status: 101, text: '' });
    });
    socket.on('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    socket.on('error', (error) => resolve({ status: 0, text: '', error: error.message }));
  });
}

describe('hostile input: local server, WebSocket frames', () => {
  it('/ws and WebSocket /mcp upgrades with hostile headers (origins, hosts, tenants, a large header)', async () => {
    await holds(
      fc.asyncProperty(fc.constantFrom('/ws', '/mcp'), hostileHeaders, (path, headers) =>
        track(
          serverCase('WebSocket upgrade', env, async () => {
            const answer = await upgrade(path, headers);
            if (answer === null) return null;
            const summary = `upgrade ${path} ${clip(JSON.stringify(headers), 300)} → ${answer.status || answer.error} ${clip(answer.text, 300)}`;
            if (answer.status === 101) return { verdict: 'accepted', summary };
            if (answer.status === 0) return { verdict: 'rejected', badShape: `no HTTP answer (${answer.error})`, summary };
            if (answer.status >= 500) return { verdict: 'server_error', summary };
            const body = parseJson(answer.text) as Record<string, unknown> | undefined;
            const shaped = body !== undefined && body !== null && typeof body === 'object' && ('detail' in body || 'error' in body);
            return { verdict: 'rejected', summary, ...(shaped ? {} : { badShape: 'expected a JSON error body ({"detail"} or {"error"})' }) };
          }),
        ),
      ),
      settings(100),
    );
  });

  it('/ws: every frame kind (reset, step, state, close, mcp, unknown) with hostile contents', async () => {
    const connection = new Connection('/ws');
    const templates: Record<string, HostileValue>[] = [
      { type: 'reset', data: { task_id: 'easy_mnist', seed: 1, agent: { policy: 'llm', model: 'gpt-4o-mini', version: 'v1' } } },
      { type: 'step', data: { type: 'call_tool', tool_name: 'get_training_status', arguments: {}, reason: 'look first', metadata: { reason: 'look first' } } },
      { type: 'step', data: { type: 'list_tools' } },
      { type: 'state' },
      { type: 'close' },
      { type: 'mcp', data: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} } },
      { type: 'mcp', data: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_training_status', arguments: {}, _meta: { reason: 'look first' } } } },
    ];
    try {
      await holds(
        fc.asyncProperty(
          fc.oneof(
            ...templates.map(hostileBodyText),
            hostileFieldBodyText(templates[0]!, ['data', 'agent']),
            hostileFieldBodyText(templates[1]!, ['data', 'reason']),
            hostileFieldBodyText(templates[6]!, ['data', 'params', '_meta', 'reason']),
          ),
          (text) => track(frameCase(connection, 'OpenEnv /ws', async () => {
            const reply = await connection.send(text);
            const closeWasAsked = (parseJson(text) as { type?: unknown } | undefined)?.type === 'close';
            return openEnvFrameVerdict(reply, text, closeWasAsked);
          })),
        ),
        settings(250),
      );
    } finally {
      connection.close();
    }
  });

  it('WebSocket /mcp: JSON-RPC frames with hostile contents', async () => {
    const connection = new Connection('/mcp');
    const templates: Record<string, HostileValue>[] = [
      { jsonrpc: '2.0', id: 1, method: 'openenv/session/create', params: { task_id: 'easy_mnist', seed: 1, agent: { policy: 'llm', version: 'v1' } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_training_status', arguments: {}, _meta: { reason: 'look first' } } },
      { jsonrpc: '2.0', id: 4, method: 'openenv/session/close', params: { session_id: 'x' } },
    ];
    try {
      await holds(
        fc.asyncProperty(
          fc.oneof(...templates.map(hostileBodyText), hostileFieldBodyText(templates[0]!, ['params', 'agent']), hostileFieldBodyText(templates[2]!, ['params', '_meta', 'reason'])),
          (text) => track(frameCase(connection, 'WebSocket /mcp', async () => {
            const reply = await connection.send(text);
            const summary = `${clip(text, 300)} → ${reply.kind === 'frame' ? clip(reply.text, 300) : reply.kind === 'closed' ? `closed ${reply.code}` : 'no reply'}`;
            if (reply.kind === 'silent') return { verdict: 'server_error', summary: `no reply and no close within 10 s: ${summary}` };
            if (reply.kind === 'closed') return SOCKET_REFUSALS.has(reply.code) ? { verdict: 'rejected', summary } : { verdict: 'rejected', badShape: `socket closed with ${reply.code}`, summary };
            return jsonRpcVerdict(parseJson(reply.text), summary);
          })),
        ),
        settings(250),
      );
    } finally {
      connection.close();
    }
  });
});
