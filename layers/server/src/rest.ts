/**
 * The REST API alone, for a process that serves only it (the api Lambda): the index also
 * carries the OpenEnv, MCP and WebSocket interfaces and the dashboard, which a Lambda
 * bundle importing it would load at every cold start.
 */
export { validationError } from './http-error';
export { describeErrors, pydanticErrors } from './pydantic-errors';
export { parseRequestPart, type RequestPart } from './rest-request';
export { sendPending } from './pending-step-reply';
export { restRoutes, sendRestError, sendRouteNotFound, type RestContext } from './rest-routes';
export { DEFAULT_BODY_LIMIT } from './server-context';
export { TenantError, type TenantResolver } from './tenant';
export { rejectLongUrl } from './url-limit';
