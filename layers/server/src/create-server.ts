import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ID_PARAMETER_MAX_LENGTH } from '../../core/src';
import { clientErrorHandler } from './client-errors';
import { dashboardRoutes, withDashboard, type DashboardOptions } from './dashboard-routes';
import { classifyFailure, setRetryAfter } from './failure';
import { jsonRpcRoutes } from './json-rpc-routes';
import { standardMcpRoutes } from './mcp-stream-routes';
import { openEnvHttpRoutes } from './openenv-http-routes';
import { openEnvWebSocketRoutes } from './openenv-ws-routes';
import { requestGuard } from './request-guard';
import { restRoutes, sendRestError } from './rest-routes';
import { serverContext, type ServerContext, type ServerOptions } from './server-context';
import { rejectLongUrl } from './url-limit';

/** Where the REST API is mounted: its URLs get the REST error body even where no REST route answers. */
const REST_PREFIX = '/v1';

function isRestUrl(url: string): boolean {
  return url === REST_PREFIX || url.startsWith(`${REST_PREFIX}/`) || url.startsWith(`${REST_PREFIX}?`);
}

/**
 * An error no route's own handler answered (fastify's bad URL and URL length errors, faults
 * outside the plugins): the REST API's body under /v1, else FastAPI's `{"detail": ...}` as
 * OpenEnv answers; Retry-After where waiting helps, either way.
 */
function answerError(ctx: ServerContext) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (isRestUrl(request.url)) return sendRestError(error, request, reply, ctx);
    const failure = classifyFailure(error, ctx.bodyLimit);
    if (failure.kind === 'internal') request.log.error({ err: error }, 'request failed');
    setRetryAfter(reply, failure);
    return reply.status(failure.status).send({ detail: failure.message });
  };
}

/**
 * The HTTP server: OpenEnv (HTTP, WebSocket /ws, JSON-RPC /mcp), standard MCP (Streamable
 * HTTP) and the REST API /v1, all adapters over one EpisodeService. Not listening yet:
 * call `listen({ host, port })` (port 0 picks a free one) and `close()` when done.
 */
export function createServer(serverOptions: ServerOptions & DashboardOptions): FastifyInstance {
  // The dashboard (on by default) observes every step through the service: see dashboard-routes.ts.
  const { options, bus } = withDashboard(serverOptions);
  const ctx = serverContext(options);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: ctx.bodyLimit,
    // A path parameter is an id: longer than any id a client may name is a 414, not a route miss.
    routerOptions: { maxParamLength: ID_PARAMETER_MAX_LENGTH },
    frameworkErrors: answerError(ctx),
    clientErrorHandler: clientErrorHandler(REST_PREFIX),
  });
  app.addHook('onRequest', rejectLongUrl);
  // Host, Origin and JSON-RPC content type, before any route (WebSocket upgrades included): request-guard.ts.
  app.addHook('onRequest', requestGuard({ allow: ctx.allow, jsonPostPaths: ['/mcp', ctx.standardMcpPath] }));

  app.register(websocket, { options: { maxPayload: ctx.bodyLimit } });

  // Unknown routes and anything unexpected outside the plugins: FastAPI's shape, as OpenEnv answers.
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ detail: 'Not Found' }));
  app.setErrorHandler(answerError(ctx));

  app.register(async (scope) => openEnvHttpRoutes(scope, ctx));
  app.register(async (scope) => openEnvWebSocketRoutes(scope, ctx));
  app.register(async (scope) => jsonRpcRoutes(scope, ctx));
  app.register(async (scope) => standardMcpRoutes(scope, ctx));
  app.register(async (scope) => restRoutes(scope, ctx), { prefix: REST_PREFIX });
  if (bus) app.register(async (scope) => dashboardRoutes(scope, ctx, bus, options));
  return app;
}
