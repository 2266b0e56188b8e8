import type { FastifyReply } from 'fastify';
import type { PendingStep } from '../../episodes/src';

/** Seconds a client waits before polling a pending step again. */
const PENDING_RETRY_AFTER_SECONDS = 5;

/** A pending step: 202 with the step, where to poll it and when. */
export function sendPending(reply: FastifyReply, pending: PendingStep): FastifyReply {
  return reply.status(202).header('location', pending.poll).header('retry-after', String(PENDING_RETRY_AFTER_SECONDS)).send(pending);
}
