import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { classifyFailure } from './failure';
import { useJsonBodies } from './json-body';
import { buildMcpServer, type McpEpisodeState } from './mcp-stream-server';
import type { ServerContext } from './server-context';
import type { SessionLease } from './session-capacity';
import { sdkAllowLists } from './allow-lists';

/**
 * Standard MCP over the Streamable HTTP transport (POST for requests, GET for the
 * server-to-client stream, DELETE to end a session), with initialize, served by the
 * official SDK. One session = one McpServer + transport + the episode it plays.
 */

interface StreamSession {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  state: McpEpisodeState;
  lease: SessionLease;
}

function rpcError(reply: FastifyReply, status: number, code: number, message: string, data?: Record<string, unknown>) {
  return reply.status(status).send({ jsonrpc: '2.0', error: { code, message, ...(data === undefined ? {} : { data }) }, id: null });
}

export async function standardMcpRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useJsonBodies(app);
  const sessions = new Map<string, StreamSession>();

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = classifyFailure(error, ctx.bodyLimit);
    if (failure.kind === 'internal') request.log.error({ err: error }, 'standard MCP request failed');
    const code = failure.code === 'invalid_json' ? -32700 : failure.kind === 'internal' ? -32603 : -32600;
    return rpcError(reply, failure.status, code, failure.message);
  });

  app.addHook('preClose', async () => {
    await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
  });

  async function serve(session: StreamSession, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const malformed = malformedToolCall(request.body);
    if (malformed) return void reply.status(200).send(malformed);
    reply.hijack();
    await session.lease.run(() => session.transport.handleRequest(request.raw, reply.raw, request.body));
  }

  async function open(request: FastifyRequest, reply: FastifyReply, tenant: string): Promise<void> {
    let transport: StreamableHTTPServerTransport | undefined;
    // The capacity may close this session later (idle, or to make room): the client then gets 404 and initializes again.
    const admission = ctx.capacity.admit(tenant, () => void transport?.close());
    if (!admission.admitted) {
      const { message, ...counts } = admission.refusal;
      return void rpcError(reply, 503, -32000, message, counts);
    }
    const state: McpEpisodeState = { tenant, episodeId: null };
    let session: StreamSession | undefined;
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        if (session) sessions.set(id, session);
      },
      // The SDK's own DNS-rebinding check, with the lists request-guard.ts applies to every route.
      enableDnsRebindingProtection: true,
      ...sdkAllowLists(ctx.allow, request.raw.socket.localPort ?? 80),
    });
    const opened = transport;
    opened.onclose = () => {
      admission.lease.release();
      if (opened.sessionId !== undefined) sessions.delete(opened.sessionId);
    };
    const server = buildMcpServer(ctx, state, request.log);
    session = { transport: opened, server, state, lease: admission.lease };
    try {
      await server.connect(opened);
      await serve(session, request, reply);
    } finally {
      // An initialize that failed (bad headers, bad version, a fault) leaves no session and no slot behind.
      if (opened.sessionId === undefined || !sessions.has(opened.sessionId)) {
        await server.close().catch(() => undefined);
        opened.onclose?.();
      }
    }
  }

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: ctx.standardMcpPath,
    handler: async (request, reply) => {
      const tenant = await ctx.resolveTenant(request);
      const header = request.headers['mcp-session-id'];
      const sessionId = Array.isArray(header) ? header[0] : header;
      if (sessionId !== undefined) {
        const session = sessions.get(sessionId);
        // Another tenant's session does not exist for this one.
        if (!session || session.state.tenant !== tenant) return rpcError(reply, 404, -32001, 'Session not found');
        return serve(session, request, reply);
      }
      if (request.method === 'POST' && isInitializeRequest(request.body)) return open(request, reply, tenant);
      return rpcError(reply, 400, -32000, 'Bad Request: no valid mcp-session-id header; start a session with an initialize request.');
    },
  });
}

/**
 * A tools/call whose params do not fit the protocol, answered -32602 Invalid params here: the
 * SDK fails such a call in its own request parsing and answers -32603 Internal error, which
 * tells a client the fault is ours. Checked with the SDK's own schema.
 */
function malformedToolCall(body: unknown): Record<string, unknown> | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const message = body as { method?: unknown; id?: unknown };
  if (message.method !== 'tools/call' || message.id === undefined) return null;
  const parsed = CallToolRequestSchema.safeParse(message);
  if (parsed.success) return null;
  return {
    jsonrpc: '2.0',
    id: message.id,
    error: { code: -32602, message: 'Invalid params: tools/call needs params {"name": <tool name>, "arguments": {...}}.' },
  };
}
