import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { echoText } from '../../core/src';
import { describeAllowedHosts, isAllowedHost, isAllowedOrigin, type AllowLists } from './allow-lists';
import { HttpError } from './http-error';

/**
 * A request refused before any route runs: a foreign Host or Origin, or a JSON-RPC POST that
 * is not application/json. Each interface's error handler renders it in its own shape and
 * keeps its HTTP status (JSON-RPC included, which otherwise answers 200).
 */
export class RequestRefused extends HttpError {}

/** A refused header as a message quotes it (headers can be kilobytes long: the core's echo cap). */
function quoted(value: string): string {
  return JSON.stringify(echoText(value));
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function hostRefused(host: string | undefined, lists: AllowLists, localPort: number | undefined): RequestRefused {
  const named = host === undefined ? 'A request without a Host header' : `Host ${quoted(host)}`;
  return new RequestRefused(
    403,
    'host_not_allowed',
    `${named} is not allowed: this server answers ${describeAllowedHosts(lists, localPort)}. ` +
      'A name that resolves here only for a web page is how DNS rebinding attacks reach a local server. ' +
      'To accept another name, start the server with --allow-host <name[:port]> (ServerOptions.allowedHosts).',
    { host: host === undefined ? null : echoText(host) },
  );
}

function originRefused(origin: string): RequestRefused {
  return new RequestRefused(
    403,
    'origin_not_allowed',
    `Origin ${quoted(origin)} is not allowed: only pages this server serves may call it, so that a web page on another site cannot drive it. ` +
      'To allow a page of another origin, start the server with --allow-origin <scheme://host[:port]> (ServerOptions.allowedOrigins).',
    { origin: echoText(origin) },
  );
}

function mediaTypeRefused(path: string, contentType: string | undefined): RequestRefused {
  return new RequestRefused(
    415,
    'unsupported_media_type',
    `POST ${path} takes Content-Type: application/json (got ${contentType === undefined ? 'none' : quoted(contentType)}).`,
  );
}

function isApplicationJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * A refused WebSocket upgrade: its socket has left node's HTTP server (and the WebSocket
 * plugin's hooks that would close it did not run), so it is closed once the refusal is sent.
 */
function closeRefusedUpgrade(request: FastifyRequest, reply: FastifyReply): void {
  if (request.headers.upgrade === undefined) return;
  reply.header('connection', 'close');
  reply.raw.once('finish', () => request.raw.socket.end());
}

export interface RequestGuardOptions {
  allow: AllowLists;
  /** Paths whose POST must be application/json (JSON-RPC: a text/plain POST is what a web page can send without asking). */
  jsonPostPaths: readonly string[];
}

/**
 * The onRequest hook in front of every route (WebSocket upgrades included): Host, then
 * Origin, then the JSON-RPC content type. What MCP's Streamable HTTP transport requires of a
 * local server, applied to all of its interfaces.
 */
export function requestGuard(options: RequestGuardOptions): onRequestAsyncHookHandler {
  return async (request, reply) => {
    const localPort = request.raw.socket?.localPort;
    const host = headerOf(request, 'host');
    const origin = headerOf(request, 'origin');
    const refusal = !isAllowedHost(host, localPort, options.allow)
      ? hostRefused(host, options.allow, localPort)
      : origin !== undefined && !isAllowedOrigin(origin, host, options.allow)
        ? originRefused(origin)
        : null;
    if (refusal !== null) {
      closeRefusedUpgrade(request, reply);
      throw refusal;
    }
    const path = request.url.split('?')[0] ?? '';
    if (request.method === 'POST' && options.jsonPostPaths.includes(path)) {
      const contentType = headerOf(request, 'content-type');
      if (!isApplicationJson(contentType)) throw mediaTypeRefused(path, contentType);
    }
  };
}
