import { z } from 'zod';
import {
  allowedHostSchema,
  allowedOriginSchema,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_TENANT,
  DEFAULT_SESSION_IDLE_MS,
  isLoopbackAddress,
  type ServerOptions,
} from '../layers/server/src';
import { UsageError } from './command';

/** `ml-trainer serve`'s options for who may reach the server and how many sessions it keeps. */
export const SERVE_ACCESS_OPTIONS = {
  'allow-host': { type: 'string', multiple: true },
  'allow-origin': { type: 'string', multiple: true },
  'max-sessions': { type: 'string' },
  'max-sessions-per-tenant': { type: 'string' },
  'session-idle-minutes': { type: 'string' },
} as const;

const IDLE_MINUTES_DEFAULT = DEFAULT_SESSION_IDLE_MS / 60_000;

export const SERVE_ACCESS_OPTIONS_HELP = `  --allow-host <name[:port]>
                           also answer requests addressed to this host name (repeatable);
                           by default only 127.0.0.1, localhost and [::1] on the server's port
                           are answered (a foreign Host header is refused with 403: DNS
                           rebinding). Required with a --host other than loopback
  --allow-origin <origin>  also answer web pages of this origin, scheme://host[:port]
                           (repeatable); by default a request with an Origin header other than
                           the server's own is refused with 403, WebSocket upgrades included
  --max-sessions <N>       live WebSocket connections plus MCP sessions, all tenants (default ${DEFAULT_MAX_SESSIONS})
  --max-sessions-per-tenant <N>
                           the same per tenant; at the limit the tenant's oldest idle session is
                           closed to make room (default ${DEFAULT_MAX_SESSIONS_PER_TENANT})
  --session-idle-minutes <N>
                           close a WebSocket connection or MCP session idle this long (default ${IDLE_MINUTES_DEFAULT})`;

export interface ServeAccessValues {
  'allow-host'?: string[];
  'allow-origin'?: string[];
  'max-sessions'?: string;
  'max-sessions-per-tenant'?: string;
  'session-idle-minutes'?: string;
}

export type ServeAccess = Pick<ServerOptions, 'allowedHosts' | 'allowedOrigins' | 'maxSessions' | 'maxSessionsPerTenant' | 'sessionIdleMs'>;

const positiveCount = z.string().regex(/^\d+$/, 'a whole number').transform(Number).pipe(z.number().int().min(1).max(100_000));

function parsed<T>(schema: z.ZodType<T>, flag: string, text: string): T {
  const result = schema.safeParse(text);
  if (!result.success) throw new UsageError(`--${flag} ${JSON.stringify(text)}: ${result.error.issues.map((i) => i.message).join('; ')}`);
  return result.data;
}

/** The access options as ServerOptions; a non-loopback --host without --allow-host is a usage error. */
export function parseServeAccess(values: ServeAccessValues, host: string): ServeAccess {
  const hosts = values['allow-host'] ?? [];
  const origins = values['allow-origin'] ?? [];
  hosts.forEach((h) => parsed(allowedHostSchema, 'allow-host', h));
  origins.forEach((o) => parsed(allowedOriginSchema, 'allow-origin', o));
  if (!isLoopbackAddress(host) && hosts.length === 0) {
    throw new UsageError(
      `--host ${host} lets other machines reach the server, which has no authentication; name the host names they will use ` +
        '(--allow-host <name[:port]>, repeatable, e.g. --allow-host mybox.lan --allow-host 192.168.1.5): requests addressed to any other name are refused',
    );
  }
  const count = (flag: keyof ServeAccessValues) => {
    const text = values[flag];
    return typeof text === 'string' ? parsed(positiveCount, flag, text) : undefined;
  };
  const maxSessions = count('max-sessions');
  const maxSessionsPerTenant = count('max-sessions-per-tenant');
  const idleMinutes = count('session-idle-minutes');
  return {
    allowedHosts: hosts,
    allowedOrigins: origins,
    ...(maxSessions === undefined ? {} : { maxSessions }),
    ...(maxSessionsPerTenant === undefined ? {} : { maxSessionsPerTenant }),
    ...(idleMinutes === undefined ? {} : { sessionIdleMs: idleMinutes * 60_000 }),
  };
}
