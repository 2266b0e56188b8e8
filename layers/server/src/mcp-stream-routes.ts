import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { classifyFailure } from './failure';
import { useJsonBodies } from './json-body';
import { buildMcpServer, type McpEpisodeState } from './mcp-stream-server';
import type { ServerContext } from './server-context';
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
  lastSeen: number;
  busy: number;
}

function rpcError(reply: FastifyReply, status: number, code: number, message: string) {
  return reply.status(status).send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

export async function standardMcpRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useJsonBodies(app, ctx.bodyLimit);
  const sessions = new Map<string, StreamSession>();

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = classifyFailure(error, ctx.bodyLimit);
    if (failure.kind === 'internal') request.log.error({ err: error }, 'standard MCP request failed');
    const code = failure.code === 'invalid_json' ? -32700 : failure.kind === 'internal' ? -32603 : -32600;
    return rpcError(reply, failure.status, code, failure.message);
  });

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const session of sessions.values()) {
        if (session.busy === 0 && now - session.lastSeen > ctx.mcpSessionIdleMs) void session.transport.close();
      }
    },
    Math.min(ctx.mcpSessionIdleMs, 60_000),
  );
  sweep.unref();

  app.addHook('preClose', async () => {
    clearInterval(sweep);
    await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
  });

  async function serve(session: StreamSession, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    session.busy += 1;
    session.lastSeen = Date.now();
    reply.hijack();
    try {
      await session.transport.handleRequest(request.raw, reply.raw, request.body);
    } finally {
      session.busy -= 1;
      session.lastSeen = Date.now();
    }
  }

  async function open(request: FastifyRequest, reply: FastifyReply, tenant: string): Promise<void> {
    if (!ctx.capacity.acquire()) {
      return void rpcError(reply, 503, -32000, `Server at capacity: ${ctx.capacity.activeSessions}/${ctx.capacity.max} sessions active.`);
    }
    const state: McpEpisodeState = { tenant, episodeId: null };
    let session: StreamSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        if (session) sessions.set(id, session);
      },
      // The SDK's own DNS-rebinding check, with the lists request-guard.ts applies to every route.
      enableDnsRebindingProtection: true,
      ...sdkAllowLists(ctx.allow, request.raw.socket.localPort ?? 80),
    });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      ctx.capacity.release();
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    transport.onclose = release;
    const server = buildMcpServer(ctx, state, request.log);
    session = { transport, server, state, lastSeen: Date.now(), busy: 0 };
    try {
      await server.connect(transport);
      await serve(session, request, reply);
    } finally {
      // An initialize that failed (bad headers, bad version, a fault) leaves no session and no slot behind.
      if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) {
        await server.close().catch(() => undefined);
        release();
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
