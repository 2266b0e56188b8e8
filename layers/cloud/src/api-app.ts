import awsLambdaFastify from '@fastify/aws-lambda';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ID_PARAMETER_MAX_LENGTH } from '../../core/src';
import {
  DEFAULT_BODY_LIMIT,
  parseRequestPart,
  rejectLongUrl,
  restRoutes,
  sendRestError,
  sendRouteNotFound,
  TenantError,
  validationError,
  type RestContext,
  type TenantResolver,
} from '../../server/src/rest';
import { isValidId } from '../../storage/src';
import { withInvocationDeadline, type CloudEpisodeService } from './cloud-episode-service';
import { requestTimeLeft } from './request-time-left';
import type { UsageReport } from './metering';
import type { FastifyLoggerFacade } from './powertools';

/**
 * The cloud REST API: the local server's REST routes (layers/server/src/rest-routes.ts,
 * unchanged: the same validation, status codes and error bodies) over the
 * CloudEpisodeService, plus what only the cloud has:
 *
 * - `GET /v1/usage?from=&to=`: the tenant's usage and estimated cost (and this month's episode quota);
 * - 429 `episode_quota_exceeded` (with Retry-After) when the tenant's monthly episode quota is used up;
 * - `GET /v1/episodes/{id}/steps/{step_id}` (the REST routes' step status route, over
 *   pollStep): 200 with the step view once committed, 202 while pending or running (with
 *   the epochs done so far as `progress`, written by the training Lambda), the failure otherwise;
 * - 202 answers `{step_id, status, poll, requested_at, deadline_at}` for steps that run
 *   asynchronously (rendered by rest-routes from the service's pending outcome).
 *
 * The tenant is the API key's id from API Gateway (`requestContext.identity.apiKeyId`),
 * never a header: a request without one is a 401 on every route.
 */
export interface ApiAppOptions {
  service: CloudEpisodeService;
  usage(tenant: string, range: { from: Date; to: Date }): Promise<UsageReport>;
  logger?: FastifyLoggerFacade;
  bodyLimit?: number;
  clock?: () => Date;
}

/** Default and largest range of GET /v1/usage. */
const DEFAULT_USAGE_DAYS = 30;
const MAX_USAGE_DAYS = 400;
const DAY_MS = 86_400_000;

const usageQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const TENANT_KEY = Symbol('tenant');

/** The API key id of the API Gateway event behind this request. */
function apiKeyIdOf(request: FastifyRequest): string | undefined {
  const event = (request as unknown as { awsLambda?: { event?: APIGatewayProxyEvent } }).awsLambda?.event;
  const id = event?.requestContext?.identity?.apiKeyId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

function requireTenant(request: FastifyRequest): string {
  const cached = (request as unknown as Record<symbol, string | undefined>)[TENANT_KEY];
  if (cached) return cached;
  const id = apiKeyIdOf(request);
  if (id === undefined) throw new TenantError('An API key is required: send it in the x-api-key header.', 401);
  if (!isValidId(id)) throw new TenantError('This API key cannot be used as a tenant.', 403);
  (request as unknown as Record<symbol, string>)[TENANT_KEY] = id;
  return id;
}

export const apiKeyTenantResolver: TenantResolver = (request) => requireTenant(request);

export function createApiApp(options: ApiAppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const clock = options.clock ?? (() => new Date());
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as unknown as FastifyBaseLogger } : { logger: false }),
    bodyLimit,
    // As the local server: an over-long path parameter or a bad percent-encoding is the REST API's 414 or 400.
    routerOptions: { maxParamLength: ID_PARAMETER_MAX_LENGTH },
    frameworkErrors: (error, request, reply) => sendRestError(error, request, reply, ctx),
  });
  const ctx: RestContext = { service: options.service, steps: options.service, resolveTenant: apiKeyTenantResolver, bodyLimit, clock };
  app.addHook('onRequest', rejectLongUrl);

  // Outside the routes' scope (unknown routes, the tenant hook): the REST API's own rendering.
  app.setErrorHandler((error: FastifyError, request, reply) => sendRestError(error, request, reply, ctx));
  app.setNotFoundHandler(sendRouteNotFound);
  // Every route needs the API key's identity, the task and tool listings too.
  app.addHook('onRequest', async (request) => {
    requireTenant(request);
  });

  app.register(
    async (scope) => {
      await restRoutes(scope, ctx);

      scope.get('/usage', async (request) => {
        const query = parseRequestPart(usageQuery, request.query, 'query');
        const tenant = await ctx.resolveTenant(request);
        const to = query.to ? new Date(query.to) : clock();
        const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_USAGE_DAYS * DAY_MS);
        if (!(from.getTime() < to.getTime())) {
          throw validationError('from must be before to.', [{ type: 'value_error', loc: ['query', 'from'], msg: 'from must be before to', input: query.from }]);
        }
        if (to.getTime() - from.getTime() > MAX_USAGE_DAYS * DAY_MS) {
          throw validationError(`The range may span at most ${MAX_USAGE_DAYS} days.`, [
            { type: 'value_error', loc: ['query', 'from'], msg: `range longer than ${MAX_USAGE_DAYS} days`, input: query.from },
          ]);
        }
        return options.usage(tenant, { from, to });
      });
    },
    { prefix: '/v1' },
  );
  return app;
}

export type ApiGatewayHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The app as an API Gateway (REST, proxy integration) handler. Query parameters are taken
 * single-valued (API Gateway's queryStringParameters: the last value of a repeated one), as
 * the routes validate scalars; what is left of the request's time (requestTimeLeft: the
 * Lambda's remaining time and API Gateway's 29 s since the request arrived) bounds synchronous steps.
 */
export function apiGatewayHandler(app: FastifyInstance): ApiGatewayHandler {
  const proxy = awsLambdaFastify<APIGatewayProxyEvent>(app, { decorateRequest: true, serializeLambdaArguments: false });
  return async (event, context) => {
    const single: APIGatewayProxyEvent = { ...event, multiValueQueryStringParameters: null };
    const result = await withInvocationDeadline(requestTimeLeft(event, context), () => proxy(single, context));
    return result as APIGatewayProxyResult;
  };
}
