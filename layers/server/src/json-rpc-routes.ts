import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantId } from '../../episodes/src';
import { classifyFailure } from './failure';
import { handleJsonRpcText, JSON_RPC, type JsonRpcContext } from './json-rpc';
import { useTextBodies } from './json-body';
import { jsonRpcWebSocketHandler } from './openenv-ws-routes';
import { RequestRefused } from './request-guard';
import type { ServerContext } from './server-context';

/**
 * POST /mcp: one JSON-RPC request (Content-Type application/json), one response, always
 * HTTP 200 (as OpenEnv); the exceptions keep their HTTP status, with a JSON-RPC error body:
 * a body over the limit (413) and a request refused before the route (request-guard.ts: 403
 * for a foreign Host or Origin, 415 for another content type). GET /mcp upgrades to the
 * JSON-RPC WebSocket.
 */
export async function jsonRpcRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useTextBodies(app);
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = classifyFailure(error, ctx.bodyLimit);
    if (failure.kind === 'internal') request.log.error({ err: error }, 'JSON-RPC request failed');
    const code = failure.kind === 'internal' ? JSON_RPC.INTERNAL_ERROR : JSON_RPC.INVALID_REQUEST;
    const status = failure.kind === 'too_large' || error instanceof RequestRefused ? failure.status : 200;
    return reply.status(status).send({ jsonrpc: '2.0', id: null, error: { code, message: failure.message, data: null } });
  });

  app.route({
    method: 'GET',
    url: '/mcp',
    handler: async (_request, reply) =>
      reply.status(405).send({ jsonrpc: '2.0', id: null, error: { code: JSON_RPC.INVALID_REQUEST, message: 'Use POST for JSON-RPC over HTTP, or open a WebSocket on this path.', data: null } }),
    wsHandler: jsonRpcWebSocketHandler(ctx),
  });

  app.post('/mcp', async (request) => {
    let tenant: TenantId | undefined;
    let tenantError: unknown;
    try {
      tenant = await ctx.resolveTenant(request);
    } catch (e) {
      tenantError = e;
    }
    const rpc: JsonRpcContext = {
      service: ctx.service,
      defaultTaskId: ctx.defaultTaskId,
      standardMcpPath: ctx.standardMcpPath,
      log: request.log,
      ...(tenant === undefined ? { tenantError } : { tenant }),
    };
    return handleJsonRpcText(typeof request.body === 'string' ? request.body : '', rpc);
  });
}
