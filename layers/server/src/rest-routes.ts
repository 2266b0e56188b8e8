import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { describeTools, getTask, listTasks } from '../../core/src';
import type { EpisodeView } from '../../episodes/src/episode-service';
import { classifyFailure } from './failure';
import { HttpError } from './http-error';
import { useJsonBodies } from './json-body';
import { describeErrors, pydanticErrors } from './pydantic-errors';
import type { ServerContext } from './server-context';

/**
 * The REST API under /v1. Errors are {"error": {code, message, details}} with 4xx codes:
 * 400 invalid JSON or validation, 404 unknown episode or route, 409 conflict or a step in
 * progress, 413 body too large, 415 not JSON; 500 only for real faults (no internals shown).
 *
 * A tool call the environment rejects is still a step (the environment's rule): it answers
 * 422 (unknown tool, invalid arguments) or 409 (no configuration yet, episode over) with the
 * committed step view in `error.details.step`, so a client sees both what was wrong and the
 * step it cost. Every other 4xx means nothing happened.
 */

/** HTTP status of a step whose tool call the environment rejected, by the core's error code. */
const TOOL_ERROR_STATUS: Record<string, number> = {
  unknown_tool: 422,
  invalid_arguments: 422,
  not_configured: 409,
  episode_over: 409,
};

const episodeId = z.string().min(1).max(255);

const createEpisodeBody = z
  .object({
    task_id: z.string().min(1).max(64),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

const stepBody = z
  .object({
    tool: z.string().min(1).max(128),
    arguments: z.record(z.string(), z.unknown()).optional(),
    request_id: z.string().min(1).max(255).optional(),
  })
  .strict();

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).optional(),
    cursor: z.string().min(1).max(2048).optional(),
  })
  .strict();

const idParams = z.object({ id: episodeId }).strict();

function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.output<S> {
  if (where === 'body' && value === undefined) throw new HttpError(400, 'validation_error', 'A JSON body is required.', { errors: [] });
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = pydanticErrors(parsed.error, value, [where]);
    throw new HttpError(400, 'validation_error', describeErrors(errors), { errors });
  }
  return parsed.data;
}

/** An episode as the API returns it: the summary, its task, the record, its grade (null until it ends) and usage. */
function episodeBody(view: EpisodeView): Record<string, unknown> {
  return { ...view, task: getTask(view.task_id), grade: view.record.grade };
}

function restError(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
  return { status, body: { error: { code, message, details } } };
}

export async function restRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useJsonBodies(app);

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = classifyFailure(error, ctx.bodyLimit);
    if (failure.kind === 'internal') request.log.error({ err: error }, 'request failed');
    const status = failure.kind === 'invalid' && failure.status === 422 ? 400 : failure.status;
    const { body } = restError(status, failure.code, failure.message, failure.details);
    // A step of this episode is executing: the same request can be retried shortly.
    if (failure.kind === 'in_progress') reply.header('retry-after', '1');
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const { status, body } = restError(404, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`, {});
    return reply.status(status).send(body);
  });

  app.get('/tasks', async () => ({ tasks: listTasks() }));
  app.get('/tools', async () => ({ tools: describeTools() }));

  app.post('/episodes', async (request, reply) => {
    const body = parse(createEpisodeBody, request.body, 'body');
    const tenant = await ctx.resolveTenant(request);
    const view = await ctx.service.createEpisode({ tenant, taskId: body.task_id, ...(body.seed === undefined ? {} : { seed: body.seed }) });
    return reply.status(201).header('location', `/v1/episodes/${encodeURIComponent(view.episode_id)}`).send(episodeBody(view));
  });

  app.get('/episodes', async (request) => {
    const query = parse(listQuery, request.query, 'query');
    const tenant = await ctx.resolveTenant(request);
    return ctx.service.listEpisodes(tenant, {
      ...(query.limit === undefined ? {} : { limit: query.limit }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
  });

  app.get('/episodes/:id', async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const tenant = await ctx.resolveTenant(request);
    return episodeBody(await ctx.service.getEpisode(tenant, id));
  });

  app.post('/episodes/:id/steps', async (request, reply) => {
    const { id } = parse(idParams, request.params, 'path');
    const body = parse(stepBody, request.body, 'body');
    const tenant = await ctx.resolveTenant(request);
    const step = await ctx.service.step({
      tenant,
      episodeId: id,
      call: { tool: body.tool, arguments: body.arguments ?? {} },
      ...(body.request_id === undefined ? {} : { requestId: body.request_id }),
    });
    if (step.error === null) return step;
    const { code, message, ...detail } = step.error;
    const status = TOOL_ERROR_STATUS[code] ?? 422;
    return reply.status(status).send(restError(status, code, message, { ...detail, step }).body);
  });
}
