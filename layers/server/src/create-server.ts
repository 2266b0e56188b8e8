import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { dashboardRoutes, withDashboard, type DashboardOptions } from './dashboard-routes';
import { classifyFailure } from './failure';
import { jsonRpcRoutes } from './json-rpc-routes';
import { standardMcpRoutes } from './mcp-stream-routes';
import { openEnvHttpRoutes } from './openenv-http-routes';
import { openEnvWebSocketRoutes } from './openenv-ws-routes';
import { restRoutes } from './rest-routes';
import { serverContext, type ServerOptions } from './server-context';

/**
 * The HTTP server: OpenEnv (HTTP, WebSocket /ws, JSON-RPC /mcp), standard MCP (Streamable
 * HTTP) and the REST API /v1, all adapters over one EpisodeService. Not listening yet:
 * call `listen({ host, port })` (port 0 picks a free one) and `close()` when done.
 */
export function createServer(serverOptions: ServerOptions & DashboardOptions): FastifyInstance {
  // The dashboard (on by default) observes every step through the service: see dashboard-routes.ts.
  const { options, bus } = withDashboard(serverOptions);
  const ctx = serverContext(options);
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: ctx.bodyLimit });

  app.register(websocket, { options: { maxPayload: ctx.bodyLimit } });

  // Unknown routes and anything unexpected outside the plugins: FastAPI's shape, as OpenEnv answers.
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ detail: 'Not Found' }));
  app.setErrorHandler((error, request, reply) => {
    const failure = classifyFailure(error, ctx.bodyLimit);
    if (failure.kind === 'internal') request.log.error({ err: error }, 'request failed');
    return reply.status(failure.status).send({ detail: failure.message });
  });

  app.register(async (scope) => openEnvHttpRoutes(scope, ctx));
  app.register(async (scope) => openEnvWebSocketRoutes(scope, ctx));
  app.register(async (scope) => jsonRpcRoutes(scope, ctx));
  app.register(async (scope) => standardMcpRoutes(scope, ctx));
  app.register(async (scope) => restRoutes(scope, ctx), { prefix: '/v1' });
  if (bus) app.register(async (scope) => dashboardRoutes(scope, ctx, bus, options));
  return app;
}
