import { startServer, type RunningServer } from './harness';
import { rawRequest, rawUpgrade, type RawRequest, type RawResponse } from './raw-request';

/**
 * Issue 12, row 3: a foreign Origin (a web page the user visits) or a foreign Host (DNS
 * rebinding) is refused with 403 on every interface, WebSocket upgrades included, in that
 * interface's error shape; the server's own pages and non-browser clients still work.
 */

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
const MCP_ACCEPT = 'application/json, text/event-stream';

type Shape = 'rest' | 'detail' | 'json-rpc';

interface Interface {
  name: string;
  request: RawRequest;
  shape: Shape;
  /** What a same-origin request gets (not a refusal). */
  allowed: number;
}

function json(method: string, path: string, body: unknown, headers: Record<string, string> = {}): RawRequest {
  return { method, path, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
}

const INTERFACES: Interface[] = [
  { name: 'REST GET /v1/tasks', request: { path: '/v1/tasks' }, shape: 'rest', allowed: 200 },
  { name: 'REST POST /v1/episodes', request: json('POST', '/v1/episodes', { task_id: 'easy_mnist' }), shape: 'rest', allowed: 201 },
  { name: 'OpenEnv POST /reset', request: json('POST', '/reset', {}), shape: 'detail', allowed: 200 },
  { name: 'OpenEnv GET /health', request: { path: '/health' }, shape: 'detail', allowed: 200 },
  { name: 'JSON-RPC POST /mcp', request: json('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }), shape: 'json-rpc', allowed: 200 },
  { name: 'standard MCP POST /mcp/v1', request: json('POST', '/mcp/v1', INITIALIZE, { accept: MCP_ACCEPT }), shape: 'json-rpc', allowed: 200 },
  { name: 'standard MCP GET /mcp/v1', request: { path: '/mcp/v1', headers: { accept: 'text/event-stream', 'mcp-session-id': 'none' } }, shape: 'json-rpc', allowed: 404 },
  { name: 'standard MCP DELETE /mcp/v1', request: { method: 'DELETE', path: '/mcp/v1', headers: { 'mcp-session-id': 'none' } }, shape: 'json-rpc', allowed: 404 },
  { name: 'dashboard page /', request: { path: '/' }, shape: 'detail', allowed: 200 },
  { name: 'dashboard JSON', request: { path: '/dashboard/api/episodes' }, shape: 'detail', allowed: 200 },
  { name: 'dashboard event stream', request: { path: '/dashboard/events', headersOnly: true }, shape: 'detail', allowed: 200 },
];

function expectRefusal(res: RawResponse, shape: Shape, code: string, hint: string): void {
  expect(res.status).toBe(403);
  if (shape === 'rest') expect(res.json).toEqual({ error: { code, message: expect.stringContaining(hint), details: expect.any(Object) } });
  if (shape === 'detail') expect(res.json).toEqual({ detail: expect.stringContaining(hint) });
  if (shape === 'json-rpc') expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining(hint) } });
}

describe('Origin and Host checks on every interface (default: loopback only)', () => {
  let server: RunningServer;
  let port: number;
  let own: string;
  beforeAll(async () => {
    server = await startServer();
    port = Number(new URL(server.base).port);
    own = `127.0.0.1:${port}`;
  });
  afterAll(() => server.close());

  const send = (i: Interface, headers: Record<string, string>) =>
    rawRequest(port, { ...i.request, headers: { ...i.request.headers, ...headers } });

  it.each(INTERFACES)('$name: a foreign Origin gets 403 naming --allow-origin', async (i) => {
    for (const origin of ['https://evil.example', 'null', `http://localhost:${port + 1}`, `http://127.0.0.1:${port}.evil.example`]) {
      const res = await send(i, { host: own, origin });
      expectRefusal(res, i.shape, 'origin_not_allowed', '--allow-origin');
      if (res.json?.detail) expect(res.json.detail).toContain('Origin');
    }
  });

  it.each(INTERFACES)('$name: a foreign Host (DNS rebinding) gets 403 naming --allow-host', async (i) => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port === 1 ? 2 : 1}`, `localhost.evil.example:${port}`]) {
      expectRefusal(await send(i, { host }), i.shape, 'host_not_allowed', '--allow-host');
    }
  });

  it.each(INTERFACES)('$name: the loopback names on its port and its own pages (same origin) are answered', async (i) => {
    for (const host of [own, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await send(i, { host })).status).toBe(i.allowed);
      expect((await send(i, { host, origin: `http://${host}` })).status).toBe(i.allowed);
    }
  });

  it.each(['/ws', '/mcp'])('WebSocket upgrade of %s: foreign Origin or Host gets 403; same origin or no Origin upgrades', async (path) => {
    const foreignOrigin = await rawUpgrade(port, path, { host: own, origin: 'https://evil.example' });
    expect(foreignOrigin.status).toBe(403);
    expect(foreignOrigin.text).toContain('--allow-origin');
    const foreignHost = await rawUpgrade(port, path, { host: `rebound.example:${port}` });
    expect(foreignHost.status).toBe(403);
    expect(foreignHost.text).toContain('--allow-host');
    expect((await rawUpgrade(port, path, { host: own, origin: `http://${own}` })).status).toBe(101);
    expect((await rawUpgrade(port, path, { host: own })).status).toBe(101);
  });

  it('the JSON-RPC POSTs take application/json only: text/plain (what a page may send without asking) gets 415', async () => {
    for (const path of ['/mcp', '/mcp/v1']) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await rawRequest(port, { method: 'POST', path, body: JSON.stringify(INITIALIZE), headers: { host: own, 'content-type': type, accept: MCP_ACCEPT } });
        expect(res.status).toBe(415);
        expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining('application/json') } });
      }
    }
    const charset = await rawRequest(port, json('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { host: own, 'content-type': 'application/json; charset=utf-8' }));
    expect(charset.json.result.tools).toHaveLength(6);
  });

  it('a refusal repeats at most 100 characters of the refused header', async () => {
    const origin = `https://${'a'.repeat(5000)}.example`;
    const res = await rawRequest(port, { path: '/v1/tasks', headers: { host: own, origin } });
    expect(res.status).toBe(403);
    expect(res.text.length).toBeLessThan(1500);
  });

  it('the dashboard keeps working: its page, then its same-origin fetch and event stream', async () => {
    const page = await rawRequest(port, { path: '/', headers: { host: own } });
    expect(page.status).toBe(200);
    const api = page.text.match(/\/dashboard\/api\/episodes[^"'&<]*/)?.[0] ?? '/dashboard/api/episodes';
    const events = page.text.match(/\/dashboard\/events[^"'&<]*/)?.[0] ?? '/dashboard/events';
    const listing = await rawRequest(port, { path: api, headers: { host: own, origin: `http://${own}`, accept: 'application/json' } });
    expect(listing.status).toBe(200);
    expect(listing.json).toHaveProperty('html');
    const stream = await rawRequest(port, { path: events, headers: { host: own, origin: `http://${own}`, accept: 'text/event-stream' }, headersOnly: true });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toContain('text/event-stream');
  });
});

describe('--allow-host and --allow-origin (ServerOptions.allowedHosts, allowedOrigins)', () => {
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    server = await startServer({ allowedHosts: ['mybox.lan', 'pinned.lan:9'], allowedOrigins: ['https://app.example.com'] });
    port = Number(new URL(server.base).port);
  });
  afterAll(() => server.close());

  it('answers the named hosts (any port, or the named one) and pages of the named origin and of its own', async () => {
    expect((await rawRequest(port, { path: '/v1/tasks', headers: { host: `mybox.lan:${port}` } })).status).toBe(200);
    expect((await rawRequest(port, { path: '/v1/tasks', headers: { host: 'mybox.lan' } })).status).toBe(200);
    expect((await rawRequest(port, { path: '/v1/tasks', headers: { host: 'pinned.lan:9' } })).status).toBe(200);
    expect((await rawRequest(port, { path: '/v1/tasks', headers: { host: `pinned.lan:${port}` } })).status).toBe(403);
    expect((await rawRequest(port, { path: '/v1/tasks', headers: { host: `mybox.lan:${port}`, origin: `http://mybox.lan:${port}` } })).status).toBe(200);
    expect((await rawRequest(port, { path: '/v1/tasks', headers: { host: `127.0.0.1:${port}`, origin: 'https://app.example.com' } })).status).toBe(200);
    expect((await rawUpgrade(port, '/ws', { host: `127.0.0.1:${port}`, origin: 'https://app.example.com' })).status).toBe(101);
    expect((await rawRequest(port, { path: '/v1/tasks', headers: { host: `127.0.0.1:${port}`, origin: 'https://other.example.com' } })).status).toBe(403);
  });

  it('a standard MCP session works through an allowed host (the SDK checks the same lists)', async () => {
    const host = `mybox.lan:${port}`;
    const init = await rawRequest(port, json('POST', '/mcp/v1', INITIALIZE, { host, origin: 'https://app.example.com', accept: MCP_ACCEPT }));
    expect(init.status).toBe(200);
    const session = String(init.headers['mcp-session-id']);
    const list = await rawRequest(port, json('POST', '/mcp/v1', { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { host, accept: MCP_ACCEPT, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }));
    expect(list.status).toBe(200);
    expect(list.text).toContain('start_episode');
  });
});

describe('ServerOptions that are not hosts or origins', () => {
  it('fail at createServer, naming the bad entry', async () => {
    await expect(startServer({ allowedHosts: ['http://mybox.lan/'] })).rejects.toThrow(/mybox\.lan/);
    await expect(startServer({ allowedOrigins: ['https://app.example.com/path'] })).rejects.toThrow(/app\.example\.com\/path/);
  });
});
