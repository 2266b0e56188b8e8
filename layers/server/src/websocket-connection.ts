import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { TenantId } from '../../episodes/src';
import { classifyFailure } from './failure';
import type { ServerContext } from './server-context';

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
 * Runs one WebSocket session: takes a capacity slot (or answers CAPACITY_REACHED and
 * closes), resolves the tenant from the upgrade request (or answers SESSION_ERROR and
 * closes), then handles frames strictly in order with exactly one reply each. Listeners
 * are attached synchronously so that no frame is lost while the tenant resolves.
 */
export function runConnection(
  socket: WebSocket,
  request: FastifyRequest,
  ctx: ServerContext,
  handlers: ConnectionHandlers,
  capacityError: (active: number, max: number) => Record<string, unknown>,
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
  if (!ctx.capacity.acquire()) {
    send(capacityError(ctx.capacity.activeSessions, ctx.capacity.max));
    socket.close(1013, 'server at capacity');
    return;
  }
  let released = false;
  const release = () => {
    if (!released) ctx.capacity.release();
    released = true;
  };
  socket.on('close', release);
  socket.on('error', (error) => request.log.warn({ err: error }, 'WebSocket error'));

  const tenant = Promise.resolve().then(() => ctx.resolveTenant(request));
  let queue: Promise<unknown> = tenant.catch((error) => {
    const failure = classifyFailure(error);
    send(errorFrame('SESSION_ERROR', failure.message));
    if (socket.readyState === socket.OPEN) socket.close(1008, 'no tenant');
  });

  socket.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
    const text = Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw as ArrayBuffer).toString('utf8');
    queue = queue
      .then(async () => {
        if (socket.readyState !== socket.OPEN) return;
        let reply: FrameReply;
        try {
          reply = await handlers.onFrame(text, await tenant);
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
