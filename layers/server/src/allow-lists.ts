import { z } from 'zod';

/**
 * Which Host and Origin headers the local server answers. It has no authentication, so a
 * browser is the danger: a page on another site (a foreign Origin) or a name that resolves to
 * 127.0.0.1 only for the attack (DNS rebinding: a foreign Host) must not drive it. Accepted
 * are the loopback names on the port the request arrived on, the pages the server itself
 * serves, and what the user names (--allow-host, --allow-origin).
 */
export interface AllowLists {
  /** Extra Host names, lower-case, each with its port or (null) for any port. */
  hosts: AllowedHost[];
  /** Extra origins, as URL.origin serializes them (`https://app.example.com`). */
  origins: string[];
}

export interface AllowedHost {
  hostname: string;
  port: number | null;
}

/** The names a loopback request carries: URL.hostname's spelling (IPv6 in brackets). */
const LOOPBACK_HOSTNAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

const HOST_DESCRIPTION = 'a host name or address, optionally with :port (example.lan, 192.168.1.5:8000, [fd00::1])';
const ORIGIN_DESCRIPTION = 'an origin: scheme://host[:port] with no path (https://app.example.com)';

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Parses `name` or `name:port` as a Host header carries it (lower-case, canonical); null if it is anything else. */
function parseHostHeader(text: string): AllowedHost | null {
  const url = parseUrl(`http://${text}`);
  if (url === null) return null;
  const explicitPort = /:(\d+)$/.exec(text)?.[1];
  const canonical = explicitPort === undefined ? url.hostname : `${url.hostname}:${explicitPort}`;
  if (url.hostname === '' || canonical !== text.toLowerCase()) return null;
  return { hostname: url.hostname, port: explicitPort === undefined ? null : Number(explicitPort) };
}

export const allowedHostSchema = z.string().transform((text, ctx) => {
  const host = parseHostHeader(text.trim());
  if (host === null) {
    ctx.addIssue({ code: 'custom', message: `not ${HOST_DESCRIPTION}: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return host;
});

export const allowedOriginSchema = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  const url = parseUrl(trimmed);
  if (url === null || url.origin === 'null' || url.origin !== trimmed.replace(/\/$/, '').toLowerCase()) {
    ctx.addIssue({ code: 'custom', message: `not ${ORIGIN_DESCRIPTION}: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return url.origin;
});

export const allowListsSchema = z.object({
  hosts: z.array(allowedHostSchema).default([]),
  origins: z.array(allowedOriginSchema).default([]),
});

function effectivePort(host: AllowedHost): number {
  return host.port ?? 80;
}

/**
 * A Host header is accepted when it names a loopback address on the port the request
 * arrived on (`localPort`; unknown for an injected request: then any port), or an allowed host.
 */
export function isAllowedHost(header: string | undefined, localPort: number | undefined, lists: AllowLists): boolean {
  if (header === undefined) return false;
  const host = parseHostHeader(header);
  if (host === null) return false;
  if (LOOPBACK_HOSTNAMES.includes(host.hostname) && (localPort === undefined || effectivePort(host) === localPort)) return true;
  return lists.hosts.some((allowed) => allowed.hostname === host.hostname && (allowed.port === null || allowed.port === effectivePort(host)));
}

/**
 * An Origin header (browsers send one on cross-site requests and every WebSocket) is
 * accepted when it is this server's own origin as the (accepted) Host header names it, or an
 * allowed origin. `null` (a sandboxed page, a file) is refused.
 */
export function isAllowedOrigin(origin: string, hostHeader: string | undefined, lists: AllowLists): boolean {
  if (lists.origins.includes(origin.toLowerCase())) return true;
  const own = hostHeader === undefined ? null : parseUrl(`http://${hostHeader}`);
  return own !== null && parseUrl(origin)?.origin === own.origin;
}

/**
 * The same lists as the MCP SDK's DNS-rebinding protection takes them: exact Host header
 * values and exact origins, for the port the server listens on.
 */
export function sdkAllowLists(lists: AllowLists, port: number): { allowedHosts: string[]; allowedOrigins: string[] } {
  const withPort = (hostname: string, p: number) => (p === 80 ? [hostname, `${hostname}:80`] : [`${hostname}:${p}`]);
  const hosts = [
    ...LOOPBACK_HOSTNAMES.flatMap((name) => withPort(name, port)),
    ...lists.hosts.flatMap((h) => (h.port === null ? [h.hostname, ...withPort(h.hostname, port)] : withPort(h.hostname, h.port))),
  ];
  const unique = [...new Set(hosts)];
  return { allowedHosts: unique, allowedOrigins: [...new Set([...unique.map((h) => new URL(`http://${h}`).origin), ...lists.origins])] };
}

/** What the server accepts, in words, for the refusal messages. */
export function describeAllowedHosts(lists: AllowLists, localPort: number | undefined): string {
  const port = localPort === undefined ? '' : `:${localPort}`;
  const names = [...LOOPBACK_HOSTNAMES.map((n) => `${n}${port}`), ...lists.hosts.map((h) => (h.port === null ? h.hostname : `${h.hostname}:${h.port}`))];
  return names.join(', ');
}

/** A listen address only this machine can reach (127.0.0.0/8, ::1, localhost): the only kind that needs no --allow-host. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}
