import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  createEpisodeBodySchema as createEpisodeBody,
  describeTools,
  getTask,
  idParameterSchema,
  listEpisodesQuerySchema as listQuery,
  listTasks,
  stepBodySchema as stepBody,
} from '../../core/src';
import type { DeferredStepService, EpisodeCatalog, EpisodeView } from '../../episodes/src';
import { classifyFailure, setRetryAfter } from './failure';
import { useJsonBodies } from './json-body';
import { sendPending } from './pending-step-reply';
import { parseRequestPart } from './rest-request';
import { stepStatusRoute } from './step-status-route';
import type { TenantResolver } from './tenant';

/**
 * The REST API under /v1. Errors are {"error": {code, message, details}} with 4xx codes:
 * 400 invalid JSON, JSON nested too deeply or validation, 404 unknown episode or route, 409
 * conflict or a step in progress (with Retry-After), 413 body too large, 414 URL too long,
 * 415 not JSON; 500 only for real faults (no internals shown).
 *
 * A tool call the environment rejects is still a step (the environment's rule): it answers
 * 422 (unknown tool, invalid arguments) or 409 (no configuration yet, episode over) with the
 * committed step view in `error.details.step`, so a client sees both what was wrong and the
 * step it cost. Every other 4xx means nothing happened.
 *
 * A step that goes on after its request (the cloud's long steps) answers 202 with the
 * pending step, `Location` naming where to poll it and `Retry-After`; an episode quota
 * refusal answers 429 with `Retry-After` until the quota resets; every training worker
 * busy answers 503.
 */

/** What the REST routes use: the episodes, their steps, the tenant of a request. */
export interface RestContext {
  service: EpisodeCatalog;
  steps: DeferredStepService;
  resolveTenant: TenantResolver;
  bodyLimit: number;
  /** Now, for Retry-After of a quota refusal; default the system clock. */
  clock?: () => Date;
}

/** HTTP status of a step whose tool call the environment rejected, by the core's error code. */
const TOOL_ERROR_STATUS: Record<string, number> = {
  unknown_tool: 422,
  invalid_arguments: 422,
  not_configured: 409,
  episode_over: 409,
  checkpoint_unavailable: 409,
};

const idParams = z.object({ id: idParameterSchema }).strict();

/** An episode as the API returns it: the summary, its task, the record, its grade (null until it ends) and usage. */
function episodeBody(view: EpisodeView): Record<string, unknown> {
  return { ...view, task: getTask(view.task_id), grade: view.record.grade };
}

function restError(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
  return { status, body: { error: { code, message, details } } };
}

/** A thrown error as the REST API answers it (also what an app mounting these routes answers outside their scope). */
export function sendRestError(error: unknown, request: FastifyRequest, reply: FastifyReply, ctx: Pick<RestContext, 'bodyLimit' | 'clock'>): FastifyReply {
  const failure = classifyFailure(error, ctx.bodyLimit);
  if (failure.kind === 'internal') request.log.error({ err: error }, 'request failed');
  const status = failure.kind === 'invalid' && failure.status === 422 ? 400 : failure.status;
  const { body } = restError(status, failure.code, failure.message, failure.details);
  setRetryAfter(reply, failure, (ctx.clock ?? (() => new Date()))());
  return reply.status(status).send(body);
}

/** A request no route matches. */
export function sendRouteNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = restError(404, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`, {});
  return reply.status(status).send(body);
}

export async function restRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  useJsonBodies(app);
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => sendRestError(error, request, reply, ctx));
  app.setNotFoundHandler(sendRouteNotFound);

  app.get('/tasks', async () => ({ tasks: listTasks() }));
  app.get('/tools', async () => ({ tools: describeTools() }));

  app.post('/episodes', async (request, reply) => {
    const body = parseRequestPart(createEpisodeBody, request.body, 'body');
    const tenant = await ctx.resolveTenant(request);
    const view = await ctx.service.createEpisode({
      tenant,
      taskId: body.task_id,
      ...(body.seed === undefined ? {} : { seed: body.seed }),
      ...(body.agent === undefined ? {} : { agent: body.agent }),
    });
    return reply.status(201).header('location', `/v1/episodes/${encodeURIComponent(view.episode_id)}`).send(episodeBody(view));
  });

  app.get('/episodes', async (request) => {
    const query = parseRequestPart(listQuery, request.query, 'query');
    const tenant = await ctx.resolveTenant(request);
    return ctx.service.listEpisodes(tenant, {
      ...(query.limit === undefined ? {} : { limit: query.limit }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
  });

  app.get('/episodes/:id', async (request) => {
    const { id } = parseRequestPart(idParams, request.params, 'path');
    const tenant = await ctx.resolveTenant(request);
    return episodeBody(await ctx.service.getEpisode(tenant, id));
  });

  app.post('/episodes/:id/steps', async (request, reply) => {
    const { id } = parseRequestPart(idParams, request.params, 'path');
    const body = parseRequestPart(stepBody, request.body, 'body');
    const tenant = await ctx.resolveTenant(request);
    const outcome = await ctx.steps.submitStep({
      tenant,
      episodeId: id,
      call: { tool: body.tool, arguments: body.arguments ?? {}, ...(body.reason === undefined ? {} : { reason: body.reason }) },
      ...(body.request_id === undefined ? {} : { requestId: body.request_id }),
    });
    if (outcome.kind === 'pending') return sendPending(reply, outcome.pending);
    const step = outcome.view;
    if (step.error === null) return step;
    const { code, message, ...detail } = step.error;
    const status = TOOL_ERROR_STATUS[code] ?? 422;
    // A committed step: sending the call again would spend another step, so no Retry-After.
    return reply.status(status).send(restError(status, code, message, { ...detail, step }).body);
  });

  stepStatusRoute(app, ctx);
}
