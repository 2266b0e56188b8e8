import WebSocket from 'ws';
import { FrameClient, startServer, type RunningServer } from './harness';

/**
 * Issue 12, row 7: 100 MCP `initialize` calls from one tenant locked every tenant out of
 * /ws for 30 minutes (the sessions filled the server's 100 slots until they expired). Now a
 * tenant holds at most maxSessionsPerTenant sessions and gives up its oldest idle one.
 */

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } };

async function initialize(server: RunningServer, tenant: string): Promise<{ status: number; session: string | null }> {
  const res = await fetch(`${server.base}/mcp/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-tenant-id': tenant },
    body: JSON.stringify(INITIALIZE),
  });
  await res.text();
  return { status: res.status, session: res.headers.get('mcp-session-id') };
}

async function listTools(server: RunningServer, tenant: string, session: string): Promise<number> {
  const res = await fetch(`${server.base}/mcp/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-tenant-id': tenant, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  await res.text();
  return res.status;
}

/** One JSON-RPC frame over WebSocket /mcp, its reply. */
async function jsonRpcOverWebSocket(url: string, tenant: string): Promise<any> {
  const socket = new WebSocket(url, { headers: { 'x-tenant-id': tenant } });
  try {
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const reply = new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    return JSON.parse(await reply);
  } finally {
    socket.close();
  }
}

describe('fair capacity with the default limits', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('100 MCP initialize calls from one tenant lock nobody out of /ws, WebSocket /mcp or MCP', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const { status, session } = await initialize(server, 'flood');
      expect(status).toBe(200);
      sessions.push(session!);
    }
    const other = await FrameClient.connect(`${server.wsBase}/ws`, { 'x-tenant-id': 'other' });
    expect((await other.request({ type: 'state' })).type).toBe('state');
    expect((await jsonRpcOverWebSocket(`${server.wsBase}/mcp`, 'other')).result.tools).toHaveLength(6);
    expect((await initialize(server, 'other')).status).toBe(200);
    // The flooding tenant itself still gets in: its oldest idle sessions made room, its newest work.
    const self = await FrameClient.connect(`${server.wsBase}/ws`, { 'x-tenant-id': 'flood' });
    expect((await self.request({ type: 'state' })).type).toBe('state');
    expect(await listTools(server, 'flood', sessions[99]!)).toBe(200);
    expect(await listTools(server, 'flood', sessions[0]!)).toBe(404);
    other.close();
    self.close();
    await Promise.all([other.closed, self.closed]);
  });
});

describe('fair capacity for WebSocket sessions', () => {
  it('a tenant at its limit gives up its oldest idle connection (closed with 1001), not another tenant’s', async () => {
    const server = await startServer({ maxSessionsPerTenant: 2 });
    try {
      const other = await FrameClient.connect(`${server.wsBase}/ws`, { 'x-tenant-id': 'other' });
      expect((await other.request({ type: 'state' })).type).toBe('state');
      const [a1, a2] = [await FrameClient.connect(`${server.wsBase}/ws`), await FrameClient.connect(`${server.wsBase}/ws`)];
      expect((await a1.request({ type: 'state' })).type).toBe('state');
      expect((await a2.request({ type: 'state' })).type).toBe('state');
      const a3 = await FrameClient.connect(`${server.wsBase}/ws`);
      expect((await a3.request({ type: 'state' })).type).toBe('state');
      expect(await a1.closed).toEqual({ code: 1001, reason: expect.stringContaining('make room') });
      expect((await a2.request({ type: 'state' })).type).toBe('state');
      expect((await other.request({ type: 'state' })).type).toBe('state');
      for (const c of [other, a2, a3]) c.close();
    } finally {
      await server.close();
    }
  });

  it('a newcomer tenant takes a slot from the tenant holding the most when the server is full', async () => {
    const server = await startServer({ maxSessions: 2, maxSessionsPerTenant: 2 });
    try {
      const [a1, a2] = [await FrameClient.connect(`${server.wsBase}/ws`), await FrameClient.connect(`${server.wsBase}/ws`)];
      expect((await a2.request({ type: 'state' })).type).toBe('state');
      const b = await FrameClient.connect(`${server.wsBase}/ws`, { 'x-tenant-id': 'b' });
      expect((await b.request({ type: 'state' })).type).toBe('state');
      expect((await a1.closed).code).toBe(1001);
      for (const c of [a2, b]) c.close();
    } finally {
      await server.close();
    }
  });

  it('closes a connection idle for sessionIdleMs', async () => {
    // Long enough that a loaded machine cannot make the connection look idle between connect and its first frame.
    const server = await startServer({ sessionIdleMs: 1_000 });
    try {
      const idle = await FrameClient.connect(`${server.wsBase}/ws`);
      expect((await idle.request({ type: 'state' })).type).toBe('state');
      expect(await idle.closed).toEqual({ code: 1001, reason: 'idle session expired' });
    } finally {
      await server.close();
    }
  });
});
