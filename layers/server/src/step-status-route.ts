import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { idParameterSchema } from '../../core/src';
import type { DeferredStepService } from '../../episodes/src';
import { sendPending } from './pending-step-reply';
import { parseRequestPart } from './rest-request';
import type { TenantResolver } from './tenant';

const stepParams = z.object({ id: idParameterSchema, step_id: idParameterSchema }).strict();

/**
 * `GET /v1/episodes/{id}/steps/{step_id}`: a step by its request_id, scoped to the tenant.
 * 202 while it runs (`{step_id, status, poll, requested_at, deadline_at, progress?}`:
 * progress holds the epochs done so far), 200 with the step view once committed (the cloud),
 * the failure if it failed, 404 when the service knows no such step.
 */
export function stepStatusRoute(app: FastifyInstance, ctx: { steps: Pick<DeferredStepService, 'pollStep'>; resolveTenant: TenantResolver }): void {
  app.get('/episodes/:id/steps/:step_id', async (request, reply) => {
    const { id, step_id } = parseRequestPart(stepParams, request.params, 'path');
    const tenant = await ctx.resolveTenant(request);
    const outcome = await ctx.steps.pollStep(tenant, id, step_id);
    if (outcome.kind === 'pending') return sendPending(reply, outcome.pending);
    return reply.status(200).send(outcome.view);
  });
}
