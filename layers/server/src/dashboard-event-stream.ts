import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardEvent, DashboardListener } from './dashboard-events';

const KEEP_ALIVE_MS = 15_000;

/** Unsubscribes from the bus; returned by a subscription. */
type Unsubscribe = () => void;

/**
 * Answers with server-sent events: `event: <type>`, `data: <json>`; comments keep the
 * connection alive. The stream ends when the client goes away or, through `closers`, when the
 * server closes (fastify would otherwise wait for the open connections).
 */
export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  closers: Set<() => void>,
  subscribe: (send: DashboardListener) => Unsubscribe,
  initial: DashboardEvent[],
): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
  });
  let id = 0;
  const send = (event: DashboardEvent) => {
    if (!res.writableEnded) res.write(`id: ${++id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  res.write('retry: 2000\n: connected\n\n');
  for (const event of initial) send(event);
  const unsubscribe = subscribe(send);
  const keepAlive = setInterval(() => {
    if (!res.writableEnded) res.write(': keep-alive\n\n');
  }, KEEP_ALIVE_MS);
  keepAlive.unref();
  const close = () => {
    clearInterval(keepAlive);
    unsubscribe();
    closers.delete(end);
  };
  const end = () => {
    close();
    if (!res.writableEnded) res.end();
  };
  closers.add(end);
  request.raw.on('close', close);
  res.on('close', close);
}
