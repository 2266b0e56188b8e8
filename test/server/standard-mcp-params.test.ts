import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServer, type RunningServer } from './harness';

/** A tools/call with params that do not fit the protocol is the client's error (-32602), not ours (-32603). Found by the hostile suite. */
describe('standard MCP: malformed tools/call params', () => {
  let server: RunningServer;
  let sessionId: string;
  let client: Client;
  beforeAll(async () => {
    server = await startServer();
    client = new Client({ name: 'test-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.base}/mcp/v1`));
    await client.connect(transport);
    sessionId = transport.sessionId!;
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  const call = (message: Record<string, unknown>) =>
    fetch(`${server.base}/mcp/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', ...message }),
    });

  it.each([
    ['no params', {}],
    ['params without a name', { params: { arguments: {} } }],
    ['a name that is not a string', { params: { name: 42, arguments: {} } }],
    ['arguments that are not an object', { params: { name: 'get_training_status', arguments: 'x' } }],
  ])('%s: -32602 Invalid params for that request id', async (_what, message) => {
    const answer = await call(message);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32602, message: expect.stringMatching(/^Invalid params/) } });
  });

  it('a well-formed call still reaches the tools (a tool result, not a protocol error)', async () => {
    const result = await client.callTool({ name: 'get_training_status', arguments: {} });
    expect(Array.isArray(result.content)).toBe(true);
  });
});
