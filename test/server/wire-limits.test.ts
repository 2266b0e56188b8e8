import { connect } from 'node:net';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { JSON_MAX_DEPTH, URL_MAX_LENGTH } from '../../layers/core/src';
import { serverContext } from '../../layers/server/src/server-context';
import { runConnection } from '../../layers/server/src/websocket-connection';
import { FrameClient, http, startServer, type RunningServer } from './harness';
import { InMemoryEpisodeService } from './in-memory-episode-service';

/**
 * Issue 12, rows 1, 2 and 9: no input crashes the process or answers 5xx (JSON nested
 * thousands deep on every way in), and every error the server or fastify itself sends has
 * the interface's body shape (REST `{"error": ...}`, OpenEnv `{"detail": ...}`), with
 * Retry-After on 409.
 */

/** `{"a":{"a":…1…}}`, `depth` levels deep (depth 5000 is about 30 KB). */
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('WebSocket frames nested 5000 deep', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  const bomb = deepObject(5000);
  const frames: Record<string, string> = {
    state: `{"type":"state","x":${bomb}}`,
    reset: `{"type":"reset","data":${bomb}}`,
    step: `{"type":"step","data":${bomb}}`,
    mcp: `{"type":"mcp","data":${bomb}}`,
    close: `{"type":"close","x":${bomb}}`,
    'unknown type': `{"type":${bomb}}`,
    'bare array': deepArray(15_000),
  };

  it.each(Object.entries(frames))('/ws %s frame: an INVALID_JSON error frame, and the session goes on', async (_kind, frame) => {
    expect(frame.length).toBeGreaterThan(25_000);
    const client = await FrameClient.connect(`${server.wsBase}/ws`);
    client.sendRaw(frame);
    const reply = await client.next();
    expect(reply).toEqual({ type: 'error', data: { code: 'INVALID_JSON', message: `JSON is nested deeper than the limit of ${JSON_MAX_DEPTH} levels.` } });
    expect((await client.reset({ seed: 1 })).type).toBe('observation');
    client.close();
    expect((await http('GET', `${server.base}/health`)).status).toBe(200);
  });

  it('WS /mcp: a JSON-RPC -32600 error, and the connection goes on', async () => {
    const client = await FrameClient.connect(`${server.wsBase}/mcp`);
    for (const frame of [`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":${bomb}}`, deepArray(5000)]) {
      client.sendRaw(frame);
      expect(await client.next()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/nested deeper/), data: null } });
    }
    expect((await client.request({ jsonrpc: '2.0', id: 2, method: 'tools/list' })).result.tools).toHaveLength(6);
    client.close();
  });

  it('an error frame repeats at most a bounded part of a long input (field value, frame type, method name)', async () => {
    const long = 'z'.repeat(30_000);
    const ws = await FrameClient.connect(`${server.wsBase}/ws`);
    for (const frame of [{ type: 'reset', data: { seed: long } }, { type: long }, { type: 'mcp', data: { jsonrpc: '2.0', id: 1, method: long } }]) {
      ws.sendRaw(JSON.stringify(frame));
      expect(JSON.stringify(await ws.next()).length).toBeLessThan(1000);
    }
    ws.close();
    const mcp = await FrameClient.connect(`${server.wsBase}/mcp`);
    const unknownSession = await mcp.request({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { session_id: 's'.repeat(255), [long]: 1 } });
    expect(JSON.stringify(unknownSession).length).toBeLessThan(1000);
    mcp.close();
  });

  it('a frame one level within the limit is parsed (then validated as usual)', async () => {
    const client = await FrameClient.connect(`${server.wsBase}/ws`);
    // frame > data > seed > JSON_MAX_DEPTH - 2 levels: exactly the limit.
    const reply = await client.request({ type: 'reset', data: { seed: JSON.parse(deepObject(JSON_MAX_DEPTH - 2)) } });
    expect(reply.data.code).toBe('VALIDATION_ERROR');
    client.close();
  });
});

describe('HTTP bodies nested 6000 deep', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  const bomb = deepObject(6000);

  it('REST /v1: 400 json_too_deep in the REST error body', async () => {
    const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' });
    for (const [path, body] of [
      ['/v1/episodes', bomb],
      [`/v1/episodes/${created.json.episode_id}/steps`, `{"tool":"run_epochs","arguments":${bomb}}`],
      ['/v1/episodes', deepArray(6000)],
    ] as const) {
      const answer = await http('POST', `${server.base}${path}`, body);
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: { code: 'json_too_deep', message: `JSON is nested deeper than the limit of ${JSON_MAX_DEPTH} levels.`, details: {} } });
    }
    expect((await http('GET', `${server.base}/v1/episodes/${created.json.episode_id}`)).json.step_count).toBe(0);
  });

  it('OpenEnv /reset and /step: 400 in FastAPI shape', async () => {
    for (const [path, body] of [
      ['/reset', `{"seed":1,"x":${bomb}}`],
      ['/step', `{"action":${bomb}}`],
    ] as const) {
      const answer = await http('POST', `${server.base}${path}`, body);
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ detail: `JSON is nested deeper than the limit of ${JSON_MAX_DEPTH} levels.` });
    }
  });

  it('JSON-RPC POST /mcp: -32600 (HTTP 200, as OpenEnv answers every JSON-RPC call)', async () => {
    const answer = await http('POST', `${server.base}/mcp`, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${bomb}}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/nested deeper/), data: null } });
  });

  it('a path no route serves: a 4xx in its shape (the REST scope parses its bodies before routing to 404)', async () => {
    expect(await http('POST', `${server.base}/nowhere`, bomb)).toMatchObject({ status: 404, json: { detail: 'Not Found' } });
    expect(await http('POST', `${server.base}/v1/nowhere`, bomb)).toMatchObject({ status: 400, json: { error: { code: 'json_too_deep' } } });
  });

  it('standard MCP POST /mcp/v1: 400 with a JSON-RPC -32600 error', async () => {
    const answer = await http('POST', `${server.base}/mcp/v1`, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":${bomb}}`, {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/nested deeper/) } });
  });
});

describe("fastify's own errors in the interface's body shape", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ bodyLimit: 2048 });
  });
  afterAll(() => server.close());

  const restError = (code: string) => ({ error: { code, message: expect.any(String), details: {} } });

  it('bad percent-encoding in the path: 400 invalid_url, REST body under /v1, detail elsewhere, the URL not echoed', async () => {
    const rest = await http('GET', `${server.base}/v1/episodes/%zz${'y'.repeat(500)}`);
    expect(rest.status).toBe(400);
    expect(rest.json).toEqual(restError('invalid_url'));
    expect(rest.text).not.toContain('yyyy');
    const openEnv = await http('GET', `${server.base}/%zz`);
    expect(openEnv.status).toBe(400);
    expect(openEnv.json).toEqual({ detail: expect.stringMatching(/not valid/) });
  });

  it('a path parameter longer than any id: 414 uri_too_long', async () => {
    const answer = await http('GET', `${server.base}/v1/episodes/${'e'.repeat(300)}`);
    expect(answer.status).toBe(414);
    expect(answer.json).toEqual(restError('uri_too_long'));
    // An id of the contract's longest length is still an id (not found here).
    expect((await http('GET', `${server.base}/v1/episodes/${'e'.repeat(255)}`)).status).toBe(404);
  });

  it('a URL longer than the limit: 414, REST body under /v1, detail elsewhere', async () => {
    const query = `?x=${'q'.repeat(URL_MAX_LENGTH)}`;
    const rest = await http('GET', `${server.base}/v1/tasks${query}`);
    expect(rest.status).toBe(414);
    expect(rest.json).toEqual(restError('uri_too_long'));
    const openEnv = await http('GET', `${server.base}/health${query}`);
    expect(openEnv.status).toBe(414);
    expect(openEnv.json).toEqual({ detail: `The URL is longer than the limit of ${URL_MAX_LENGTH} characters.` });
    expect((await http('GET', `${server.base}/nowhere${query}`)).json).toEqual({ detail: expect.any(String) });
  });

  it('a body over the limit: 413 payload_too_large in the REST body', async () => {
    const answer = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist', pad: 'p'.repeat(4096) });
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual(restError('payload_too_large'));
  });

  it('Retry-After only on a 409 that a retry can get past: not on a committed tool rejection, not on "reset first"', async () => {
    const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' });
    const rejected = await http('POST', `${server.base}/v1/episodes/${created.json.episode_id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 1 } });
    expect(rejected.status).toBe(409);
    expect(rejected.headers.get('retry-after')).toBeNull();
    const noEpisode = await http('POST', `${server.base}/step`, { action: { type: 'call_tool', tool_name: 'get_training_status', arguments: {} } }, { 'x-tenant-id': 'nobody-yet' });
    expect(noEpisode.status).toBe(409);
    expect(noEpisode.headers.get('retry-after')).toBeNull();
    expect(noEpisode.json).toEqual({ detail: expect.stringMatching(/POST \/reset first/) });
  });

  it('validation errors echo at most a bounded part of the input', async () => {
    const long = 'z'.repeat(2000);
    const answer = await http('POST', `${server.base}/reset`, { seed: long });
    expect(answer.status).toBe(422);
    expect(answer.text.length).toBeLessThan(600);
  });
});

describe('a reply that cannot be sent closes its socket, never the process', () => {
  it('closes with 1011 when a reply does not serialize and when the fault handler throws; the server still answers', async () => {
    const app = Fastify();
    await app.register(websocket);
    const ctx = serverContext({ service: new InMemoryEpisodeService() });
    app.register(async (scope) => {
      scope.get('/unserializable', { websocket: true }, (socket, request) =>
        runConnection(socket, request, ctx, { onFrame: async () => ({ value: BigInt(1) }), onFault: () => ({}) }, () => ({})),
      );
      scope.get('/faulty', { websocket: true }, (socket, request) =>
        runConnection(
          socket,
          request,
          ctx,
          {
            onFrame: async () => {
              throw new Error('frame failed');
            },
            onFault: () => {
              throw new Error('and so did its answer');
            },
          },
          () => ({}),
        ),
      );
      scope.get('/health', async () => ({ status: 'healthy' }));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const base = `127.0.0.1:${address.port}`;
    try {
      for (const path of ['/unserializable', '/faulty']) {
        const client = await FrameClient.connect(`ws://${base}${path}`);
        client.sendRaw('{}');
        expect((await client.closed).code).toBe(1011);
      }
      expect((await http('GET', `http://${base}/health`)).json).toEqual({ status: 'healthy' });
    } finally {
      await app.close();
    }
  });
});

describe("requests Node's HTTP parser refuses, in the interface's body shape", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('a URL over 16 KiB: 431, REST body under /v1, detail elsewhere', async () => {
    const query = `?x=${'q'.repeat(20_000)}`;
    const rest = await http('GET', `${server.base}/v1/tasks${query}`);
    expect(rest.status).toBe(431);
    expect(rest.json).toEqual({ error: { code: 'headers_too_large', message: expect.any(String), details: {} } });
    const openEnv = await http('GET', `${server.base}/health${query}`);
    expect(openEnv.status).toBe(431);
    expect(openEnv.json).toEqual({ detail: expect.any(String) });
    expect((await http('GET', `${server.base}/health`)).status).toBe(200);
  });

  it('bytes after a complete request (a DELETE body without Content-Length) end the connection after its one answer (found by the hostile suite)', async () => {
    const port = Number(new URL(server.base).port);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(`DELETE /v1/episodes/e-1/steps/s-1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n{"task_id":"easy_mnist","seed":7}`),
      );
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 404 /);
    expect(raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  it('a HEAD request refused by the HTTP parser gets the headers and no body (found by the hostile suite)', async () => {
    const port = Number(new URL(server.base).port);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(`HEAD /v1/tasks?x=${'q'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
  });
});
