import type { FastifyServerOptions } from 'fastify';
import { defaultTaskId, JSON_MAX_BYTES } from '../../core/src';
import type { DeferredStepService, EpisodeService } from '../../episodes/src';
import { allowListsSchema, type AllowLists } from './allow-lists';
import { RecentEpisodes } from './recent-episodes';
import { RunningSteps } from './running-steps';
import { SessionCapacity } from './session-capacity';
import { headerTenantResolver, type TenantResolver } from './tenant';
import { trackedSteps } from './tracked-steps';

export interface ServerOptions {
  /** Where episodes live and steps execute (the stored service, or an in-memory one in tests). */
  service: EpisodeService;
  /** Maps a request to its tenant; default: the x-tenant-id header, else "local". */
  tenantFromRequest?: TenantResolver;
  /** Largest request body (and WebSocket frame) in bytes; default 64 KiB. */
  bodyLimit?: number;
  /** fastify's logger option (false, true, or pino options); default false. */
  logger?: FastifyServerOptions['logger'];
  /** The task of a reset (or session) that names none; default the registry's defaultTaskId(), as the reference. */
  defaultTaskId?: string;
  /** Live WebSocket connections plus standard MCP sessions, all tenants together; default 100. */
  maxSessions?: number;
  /** The same, per tenant (at the limit, the tenant's oldest idle session makes room); default 32. */
  maxSessionsPerTenant?: number;
  /** A standard MCP session or WebSocket connection idle this long is closed; default 30 minutes. */
  sessionIdleMs?: number;
  /**
   * Host header names accepted besides the loopback names (127.0.0.1, localhost, [::1]) on
   * the port a request arrives on: `name` (any port) or `name:port`. Default none.
   */
  allowedHosts?: readonly string[];
  /** Origins (`scheme://host[:port]`) whose pages may call the server besides its own; default none. */
  allowedOrigins?: readonly string[];
  /** Where standard MCP (Streamable HTTP) is served; default /mcp/v1. */
  standardMcpPath?: string;
  /** GET /metadata's version; default the package version. */
  version?: string;
}

/** What every route module needs: the options resolved to values. */
export interface ServerContext {
  service: EpisodeService;
  /** The service's steps as the REST API submits them (done within their request) and polls them while they run (tracked-steps.ts). */
  steps: DeferredStepService;
  resolveTenant: TenantResolver;
  bodyLimit: number;
  defaultTaskId: string;
  capacity: SessionCapacity;
  /** The Host and Origin headers the server answers besides its own (request-guard.ts). */
  allow: AllowLists;
  recent: RecentEpisodes;
  standardMcpPath: string;
  version: string;
}

/** The wire limit of a JSON document (core's wire-limits.ts), unless configured otherwise. */
export const DEFAULT_BODY_LIMIT = JSON_MAX_BYTES;
export const DEFAULT_MAX_SESSIONS = 100;
export const DEFAULT_MAX_SESSIONS_PER_TENANT = 32;
export const DEFAULT_SESSION_IDLE_MS = 30 * 60 * 1000;
export const DEFAULT_STANDARD_MCP_PATH = '/mcp/v1';
export const SERVER_VERSION = '0.1.0';

export function serverContext(options: ServerOptions): ServerContext {
  return {
    service: options.service,
    steps: trackedSteps(options.service, new RunningSteps()),
    resolveTenant: options.tenantFromRequest ?? headerTenantResolver,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    defaultTaskId: options.defaultTaskId ?? defaultTaskId(),
    capacity: new SessionCapacity({
      max: options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      perTenant: options.maxSessionsPerTenant ?? DEFAULT_MAX_SESSIONS_PER_TENANT,
      idleMs: options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
    }),
    allow: allowListsSchema.parse({ hosts: options.allowedHosts ?? [], origins: options.allowedOrigins ?? [] }),
    recent: new RecentEpisodes(),
    standardMcpPath: options.standardMcpPath ?? DEFAULT_STANDARD_MCP_PATH,
    version: options.version ?? SERVER_VERSION,
  };
}
