import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { echoInput, idParameterSchema } from '../../core/src';
import { classifyFailure, setRetryAfter } from './failure';
import { HttpError } from './http-error';
import { useJsonBodies } from './json-body';
import { openApiDocument } from './openapi-document';
import { environmentMetadata, environmentSchemas } from './openenv-info';
import { httpResetRequestSchema, httpStepRequestSchema, parseAction } from './openenv-messages';
import { OpenEnvSession } from './openenv-session';
import { describeErrors, pydanticErrors, type PydanticError } from './pydantic-errors';
import type { ServerContext } from './server-context';

/**
 * OpenEnv's HTTP routes (§4). Errors look like FastAPI's: 422 {"detail": [pydantic errors]}
 * for invalid input, {"detail": "message"} otherwise.
 *
 * OpenEnv's /reset and /step are stateless (a fresh environment per request). Ours act on
 * stored episodes: /reset starts one (its id is in observation.metadata.episode_id) and /step
 * acts on the `episode_id` it names, else on the episode the tenant's last /reset started.
 */

const stateQuerySchema = z.object({ episode_id: idParameterSchema.optional() }).passthrough();

function validationError(errors: PydanticError[]): HttpError {
  return new HttpError(422, 'validation_error', describeErrors(errors), { errors });
}

function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(pydanticErrors(parsed.error, value, [where]));
  return parsed.data;
}

/** FastAPI's shape for every error of these routes. */
function openEnvErrorHandler(ctx: ServerContext) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = classifyFailure(error, ctx.bodyLimit);
    if (failure.kind === 'internal') request.log.error({ err: error }, 'request failed');
    if (failure.code === 'invalid_json') {
      const detail: PydanticError[] = [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: failure.message } }];
      return reply.status(422).send({ detail });
    }
    if (Array.isArray(failure.details.errors)) return reply.status(422).send({ detail: failure.details.errors });
    const field = failure.details.field;
    if (failure.kind === 'invalid' && typeof field === 'string') {
      // The service or core refused a value (an unknown task_id, a bad seed or request_id): a 422 naming the field.
      const input = echoInput((request.body as Record<string, unknown> | undefined)?.[field]);
      const allowed = failure.details.allowed;
      const detail: PydanticError[] = [
        { type: 'value_error', loc: ['body', field], msg: failure.message, input, ...(allowed === undefined ? {} : { ctx: { allowed } }) },
      ];
      return reply.status(422).send({ detail });
    }
    setRetryAfter(reply, failure);
    return reply.status(failure.status).send({ detail: failure.message });
  };
}

export async function openEnvHttpRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useJsonBodies(app);
  app.setErrorHandler(openEnvErrorHandler(ctx));

  app.get('/health', async () => ({ status: 'healthy' }));
  app.get('/metadata', async () => environmentMetadata(ctx.version));
  app.get('/schema', async () => environmentSchemas());
  app.get('/openapi.json', async () => openApiDocument(ctx));

  app.post('/reset', async (request) => {
    const kwargs = parseInput(httpResetRequestSchema, request.body ?? {}, 'body');
    const tenant = await ctx.resolveTenant(request);
    const session = new OpenEnvSession(ctx.service, tenant, ctx.defaultTaskId);
    const envelope = await session.reset(kwargs);
    ctx.recent.remember(tenant, session.requireEpisode());
    return envelope;
  });

  app.post('/step', async (request) => {
    const body = parseInput(httpStepRequestSchema, request.body, 'body');
    const parsed = parseAction(body.action);
    // As OpenEnv: the action is validated on its own, so `loc` is relative to it.
    if (!parsed.success) throw validationError(pydanticErrors(parsed.error, body.action));
    const tenant = await ctx.resolveTenant(request);
    const episodeId = body.episode_id ?? ctx.recent.get(tenant);
    const session = new OpenEnvSession(ctx.service, tenant, ctx.defaultTaskId, episodeId);
    if (parsed.action.type === 'call_tool' && episodeId === null) {
      throw new HttpError(409, 'no_episode', 'No episode to step: POST /reset first, or pass the episode_id that /reset returned (observation.metadata.episode_id).');
    }
    // timeout_s is accepted and ignored: a training step is not cancelled half-way.
    return session.step(parsed.action, body.request_id ?? undefined);
  });

  app.get('/state', async (request) => {
    const query = parseInput(stateQuerySchema, request.query, 'query');
    const tenant = await ctx.resolveTenant(request);
    return new OpenEnvSession(ctx.service, tenant, ctx.defaultTaskId, query.episode_id ?? ctx.recent.get(tenant)).state();
  });
}
