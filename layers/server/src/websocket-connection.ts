import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { TenantId } from '../../episodes/src';
import { classifyFailure } from './failure';
import type { ServerContext } from './server-context';
import type { CapacityRefusal, SessionLease } from './session-capacity';

/** What a frame handler returns: a reply to send, or null for none (a `close` frame). */
export type FrameReply = Record<string, unknown> | null;

export interface ConnectionHandlers {
  /** Handles one text frame; called strictly one at a time, in arrival order. */
  onFrame(text: string, tenant: TenantId): Promise<FrameReply>;
  /** The reply for a fault the frame handler did not turn into a reply itself. */
  onFault(error: unknown): Record<string, unknown>;
}

export function errorFrame(code: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'error', data: { message, code, ...extra } };
}

/**
 * Runs one WebSocket session: resolves the tenant from the upgrade request (or answers
 * SESSION_ERROR and closes), takes a capacity slot for it (or answers CAPACITY_REACHED and
 * closes), then handles frames strictly in order with exactly one reply each. Listeners
 * are attached synchronously so that no frame is lost while the tenant resolves.
 */
export function runConnection(
  socket: WebSocket,
  request: FastifyRequest,
  ctx: ServerContext,
  handlers: ConnectionHandlers,
  capacityError: (refusal: CapacityRefusal) => Record<string, unknown>,
): void {
  // Every reply goes through here: a reply that cannot be serialized or sent closes this one socket, never the process.
  const send = (frame: Record<string, unknown>) => {
    if (socket.readyState !== socket.OPEN) return;
    try {
      socket.send(JSON.stringify(frame));
    } catch (error) {
      request.log.error({ err: error }, 'WebSocket reply could not be sent; closing the connection');
      closeOnFault(socket);
    }
  };
  socket.on('error', (error) => request.log.warn({ err: error }, 'WebSocket error'));

  const tenant = Promise.resolve().then(() => ctx.resolveTenant(request));
  let lease: SessionLease | null = null;
  let queue: Promise<unknown> = tenant.then((owner) => {
    lease = admitConnection(socket, owner, ctx, (refusal) => send(capacityError(refusal)));
  }, (error) => {
    const failure = classifyFailure(error);
    send(errorFrame('SESSION_ERROR', failure.message));
    if (socket.readyState === socket.OPEN) socket.close(1008, 'no tenant');
  });

  socket.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
    const text = Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw as ArrayBuffer).toString('utf8');
    queue = queue
      .then(async () => {
        const slot = lease;
        if (socket.readyState !== socket.OPEN || slot === null) return;
        let reply: FrameReply;
        try {
          reply = await slot.run(async () => handlers.onFrame(text, await tenant));
        } catch (error) {
          reply = handlers.onFault(error);
        }
        if (reply !== null) send(reply);
      })
      .catch((error: unknown) => {
        // The fault handler itself failed: an error while answering an error ends this connection only.
        request.log.error({ err: error }, 'WebSocket frame could not be answered; closing the connection');
        closeOnFault(socket);
      });
  });
}

/** Closes a socket whose reply failed (1011, internal error); a socket that cannot even close is terminated. */
function closeOnFault(socket: WebSocket): void {
  try {
    socket.close(1011, 'internal error');
  } catch {
    socket.terminate();
  }
}

/** Takes the tenant's session slot for this connection (which the capacity may close when idle), or refuses and closes it. */
function admitConnection(socket: WebSocket, tenant: TenantId, ctx: ServerContext, refuse: (refusal: CapacityRefusal) => void): SessionLease | null {
  const admission = ctx.capacity.admit(tenant, (reason) =>
    socket.close(1001, reason === 'evicted' ? 'idle session closed to make room for another' : 'idle session expired'),
  );
  if (!admission.admitted) {
    refuse(admission.refusal);
    if (socket.readyState === socket.OPEN) socket.close(1013, 'at capacity');
    return null;
  }
  const { lease } = admission;
  if (socket.readyState === socket.CLOSED) lease.release();
  else socket.on('close', () => lease.release());
  return lease;
}
