export { createServer } from './create-server';
export {
  DEFAULT_BODY_LIMIT,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_TENANT,
  DEFAULT_SESSION_IDLE_MS,
  DEFAULT_STANDARD_MCP_PATH,
  type ServerOptions,
} from './server-context';
export { DEFAULT_TENANT, headerTenantResolver, TENANT_HEADER, TenantError, type TenantResolver } from './tenant';
export { START_EPISODE } from './mcp-stream-server';
export { ENVIRONMENT_NAME } from './openenv-info';
export { allowedHostSchema, allowedOriginSchema, isLoopbackAddress } from './allow-lists';
