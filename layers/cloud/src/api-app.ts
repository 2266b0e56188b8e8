import awsLambdaFastify from '@fastify/aws-lambda';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { classifyFailure } from '../../server/src/failure';
import { HttpError } from '../../server/src/http-error';
import { describeErrors, pydanticErrors } from '../../server/src/pydantic-errors';
import { restRoutes } from '../../server/src/rest-routes';
import { DEFAULT_BODY_LIMIT, serverContext } from '../../server/src/server-context';
import { TenantError, type TenantResolver } from '../../server/src/tenant';
import { isValidId } from '../../storage/src';
import { STEP_PENDING_CODE, withInvocationDeadline, type CloudEpisodeService } from './cloud-episode-service';
import { EPISODE_QUOTA_EXCEEDED_CODE } from './episode-quota';
import type { UsageReport } from './metering';
import type { FastifyLoggerFacade } from './powertools';

/**
 * The cloud REST API: the local server's REST routes (layers/server/src/rest-routes.ts,
 * unchanged: the same validation, status codes and error bodies) over the
 * CloudEpisodeService, plus what only the cloud has:
 *
 * - `GET /v1/usage?from=&to=`: the tenant's usage and estimated cost (and this month's episode quota);
 * - 429 `episode_quota_exceeded` (with Retry-After) when the tenant's monthly episode quota is used up;
 * - `GET /v1/episodes/{id}/steps/{step_id}`: a step by its request_id (200 with the step
 *   view once committed, 202 while pending, the failure otherwise);
 * - 202 answers `{step_id, status, poll, requested_at, deadline_at}` for steps that run
 *   asynchronously.
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

const stepParams = z.object({ id: z.string().min(1).max(255), step_id: z.string().min(1).max(255) }).strict();

function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'query' | 'path'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = pydanticErrors(parsed.error, value, [where]);
    throw new HttpError(400, 'validation_error', describeErrors(errors), { errors });
  }
  return parsed.data;
}

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

function errorBody(code: string, message: string, details: Record<string, unknown>) {
  return { error: { code, message, details } };
}

/** The REST error rendering of rest-routes.ts, for what happens outside its scope (unknown routes, the tenant hook). */
function renderError(error: unknown, request: FastifyRequest, reply: FastifyReply, bodyLimit: number) {
  const failure = classifyFailure(error, bodyLimit);
  if (failure.kind === 'internal') request.log.error({ err: error }, 'request failed');
  const status = failure.kind === 'invalid' && failure.status === 422 ? 400 : failure.status;
  return reply.status(status).send(errorBody(failure.code, failure.message, failure.details));
}

export function createApiApp(options: ApiAppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const clock = options.clock ?? (() => new Date());
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as unknown as FastifyBaseLogger } : { logger: false }),
    bodyLimit,
  });
  const ctx = serverContext({ service: options.service, tenantFromRequest: apiKeyTenantResolver, bodyLimit });

  app.setErrorHandler((error: FastifyError, request, reply) => renderError(error, request, reply, bodyLimit));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`, {})),
  );
  // Every route needs the API key's identity, the task and tool listings too.
  app.addHook('onRequest', async (request) => {
    requireTenant(request);
  });

  app.register(
    async (scope) => {
      // A step that runs on: rest-routes renders the 202 HttpError in its error shape; the
      // answer is its details, {step_id, status, poll, ...}, with the poll URL in Location.
      scope.addHook('onSend', async (_request, reply, payload) => {
        if (reply.statusCode === 429 && typeof payload === 'string') return quotaRetryAfter(reply, payload, clock());
        if (reply.statusCode !== 202 || typeof payload !== 'string') return payload;
        const body = JSON.parse(payload) as { error?: { code?: string; details?: { poll?: string } } };
        if (body.error?.code !== STEP_PENDING_CODE || !body.error.details) return payload;
        if (body.error.details.poll) reply.header('location', body.error.details.poll);
        reply.header('retry-after', '5');
        return JSON.stringify(body.error.details);
      });

      await restRoutes(scope, ctx);

      scope.get('/usage', async (request) => {
        const query = parse(usageQuery, request.query, 'query');
        const tenant = await ctx.resolveTenant(request);
        const to = query.to ? new Date(query.to) : clock();
        const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_USAGE_DAYS * DAY_MS);
        if (!(from.getTime() < to.getTime())) {
          throw new HttpError(400, 'validation_error', 'from must be before to.', { errors: [{ type: 'value_error', loc: ['query', 'from'], msg: 'from must be before to', input: query.from }] });
        }
        if (to.getTime() - from.getTime() > MAX_USAGE_DAYS * DAY_MS) {
          throw new HttpError(400, 'validation_error', `The range may span at most ${MAX_USAGE_DAYS} days.`, {
            errors: [{ type: 'value_error', loc: ['query', 'from'], msg: `range longer than ${MAX_USAGE_DAYS} days`, input: query.from }],
          });
        }
        return options.usage(tenant, { from, to });
      });

      scope.get('/episodes/:id/steps/:step_id', async (request, reply) => {
        const { id, step_id } = parse(stepParams, request.params, 'path');
        const tenant = await ctx.resolveTenant(request);
        const poll = await options.service.pollStep(tenant, id, step_id);
        if (poll.kind === 'pending') throw poll.pending;
        return reply.status(200).send(poll.view);
      });
    },
    { prefix: '/v1' },
  );
  return app;
}

/** An episode quota refusal says when to come back: Retry-After = seconds until the quota resets. */
function quotaRetryAfter(reply: FastifyReply, payload: string, now: Date): string {
  try {
    const body = JSON.parse(payload) as { error?: { code?: string; details?: { resets_at?: unknown } } };
    const resetsAt = body.error?.code === EPISODE_QUOTA_EXCEEDED_CODE ? body.error.details?.resets_at : undefined;
    if (typeof resetsAt === 'string' && Number.isFinite(Date.parse(resetsAt))) {
      reply.header('retry-after', String(Math.max(1, Math.ceil((Date.parse(resetsAt) - now.getTime()) / 1000))));
    }
  } catch {
    // Not JSON: nothing to add.
  }
  return payload;
}

export type ApiGatewayHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The app as an API Gateway (REST, proxy integration) handler. Query parameters are taken
 * single-valued (API Gateway's queryStringParameters: the last value of a repeated one), as
 * the routes validate scalars; the Lambda's remaining time bounds synchronous steps.
 */
export function apiGatewayHandler(app: FastifyInstance): ApiGatewayHandler {
  const proxy = awsLambdaFastify<APIGatewayProxyEvent>(app, { decorateRequest: true, serializeLambdaArguments: false });
  return async (event, context) => {
    const single: APIGatewayProxyEvent = { ...event, multiValueQueryStringParameters: null };
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : () => 29_000;
    const result = await withInvocationDeadline(remaining, () => proxy(single, context));
    return result as APIGatewayProxyResult;
  };
}
