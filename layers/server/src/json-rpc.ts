import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { agentLabelSchema, echoText, episodeSeedSchema, idParameterSchema, parseJsonWithLimits, stepReasonSchema } from '../../core/src';
import type { EpisodeService, TenantId } from '../../episodes/src';
import { episodeStart } from './episode-start';
import { classifyFailure } from './failure';
import { OpenEnvSession } from './openenv-session';
import { describeErrors, pydanticErrors } from './pydantic-errors';
import { jsonRpcTools } from './tool-listing';
import { callToolResult } from './tool-result';

/**
 * OpenEnv's JSON-RPC 2.0 dialect (§6), shared by POST /mcp, WebSocket /mcp and the /ws
 * `mcp` frame: tools/list, tools/call, openenv/session/create and openenv/session/close.
 * No initialize: standard MCP lives on its own route.
 *
 * Our sessions are episodes: openenv/session/create starts one and its session_id IS the
 * episode id, so a session survives restarts and needs no server memory. Every tools/call
 * is a step of that episode (OpenEnv's tools/call bypasses step(); ours may not, or tool
 * calls over JSON-RPC would be free). A JSON-RPC error means nothing happened; once a call
 * reached the environment it answers with a result, `is_error` true if the environment
 * rejected it (the step still counted).
 */

export type JsonRpcId = string | number | null;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject };

export const JSON_RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  SERVER_ERROR: -32000,
} as const;

export interface JsonRpcContext {
  service: EpisodeService;
  /** Undefined when the tenant could not be established (then `tenantError` says why). */
  tenant?: TenantId;
  tenantError?: unknown;
  defaultTaskId: string;
  /** Inside a WebSocket connection: its session (calls without session_id act on its episode). */
  wsSession?: OpenEnvSession;
  /** Where standard MCP is served, for the hint an `initialize` gets. */
  standardMcpPath?: string;
  log: FastifyBaseLogger;
}

class JsonRpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown = null,
  ) {
    super(message);
  }
}

const envelopeSchema = z
  .object({
    jsonrpc: z.literal('2.0'),
    method: z.string(),
    params: z.record(z.string(), z.unknown()).optional(),
    id: z.union([z.string(), z.number().int(), z.null()]).optional(),
  })
  .strict();

/** A session is an episode: its id is an episode id as a client names it. */
const sessionParam = idParameterSchema;

/** MCP's request metadata; `reason` (ours) is the agent's reason for the call, stored with the step. */
const callMeta = z.object({ reason: stepReasonSchema.optional() }).passthrough();

const paramSchemas = {
  'tools/list': z.object({ session_id: sessionParam.optional() }).passthrough(),
  'tools/call': z
    .object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).optional(), session_id: sessionParam.optional(), _meta: callMeta.optional() })
    .passthrough(),
  'openenv/session/create': z
    .object({ task_id: z.string().optional(), seed: episodeSeedSchema.optional(), agent: agentLabelSchema.optional() })
    .passthrough(),
  'openenv/session/close': z.object({ session_id: sessionParam }).passthrough(),
} as const;

type Method = keyof typeof paramSchemas;

function isMethod(method: string): method is Method {
  return Object.prototype.hasOwnProperty.call(paramSchemas, method);
}

function errorResponse(id: JsonRpcId, code: number, message: string, data: unknown = null): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message, data } };
}

function parseParams<M extends Method>(method: M, params: Record<string, unknown>): z.output<(typeof paramSchemas)[M]> {
  if (method === 'tools/call' && params.name === undefined) throw new JsonRpcFailure(JSON_RPC.INVALID_PARAMS, "Missing 'name' in params");
  if (method === 'openenv/session/close' && params.session_id === undefined) {
    throw new JsonRpcFailure(JSON_RPC.INVALID_PARAMS, "Missing 'session_id' in params");
  }
  const parsed = paramSchemas[method].safeParse(params);
  if (!parsed.success) {
    const errors = pydanticErrors(parsed.error, params, ['params']);
    throw new JsonRpcFailure(JSON_RPC.INVALID_PARAMS, `Invalid params: ${describeErrors(errors)}`, { errors });
  }
  return parsed.data as z.output<(typeof paramSchemas)[M]>;
}

/** Maps a service or core failure to a JSON-RPC error; `sessionId` names the session a not_found was about. */
function failureToJsonRpc(error: unknown, ctx: JsonRpcContext, sessionId?: string): JsonRpcFailure {
  if (error instanceof JsonRpcFailure) return error;
  const failure = classifyFailure(error);
  switch (failure.kind) {
    case 'invalid':
      return new JsonRpcFailure(JSON_RPC.INVALID_PARAMS, failure.message, { code: failure.code, ...failure.details });
    case 'not_found':
      return new JsonRpcFailure(JSON_RPC.INVALID_PARAMS, sessionId === undefined ? failure.message : `Unknown session_id: ${echoText(sessionId)}`, {
        code: 'not_found',
      });
    case 'internal':
      ctx.log.error({ err: error }, 'JSON-RPC request failed');
      return new JsonRpcFailure(JSON_RPC.INTERNAL_ERROR, failure.message);
    default:
      return new JsonRpcFailure(JSON_RPC.SERVER_ERROR, failure.message, { code: failure.code, ...failure.details });
  }
}

function requireTenant(ctx: JsonRpcContext): TenantId {
  if (ctx.tenant !== undefined) return ctx.tenant;
  const failure = classifyFailure(ctx.tenantError);
  throw new JsonRpcFailure(JSON_RPC.SERVER_ERROR, failure.message, { code: failure.code });
}

/** The session a tools/* call acts on: session_id's episode, else (inside a WebSocket) the connection's. */
function sessionFor(ctx: JsonRpcContext, sessionId: string | undefined): OpenEnvSession | null {
  if (sessionId === undefined) return ctx.wsSession ?? null;
  if (ctx.wsSession && ctx.wsSession.episodeId === sessionId) return ctx.wsSession;
  return new OpenEnvSession(ctx.service, requireTenant(ctx), ctx.defaultTaskId, sessionId);
}

async function toolsList(params: z.output<(typeof paramSchemas)['tools/list']>, ctx: JsonRpcContext): Promise<unknown> {
  if (params.session_id !== undefined) {
    try {
      await ctx.service.getEpisode(requireTenant(ctx), params.session_id);
    } catch (e) {
      throw failureToJsonRpc(e, ctx, params.session_id);
    }
  }
  return { tools: jsonRpcTools() };
}

async function toolsCall(params: z.output<(typeof paramSchemas)['tools/call']>, ctx: JsonRpcContext): Promise<unknown> {
  const session = sessionFor(ctx, params.session_id);
  if (session === null || session.episodeId === null) {
    throw new JsonRpcFailure(
      JSON_RPC.INVALID_PARAMS,
      ctx.wsSession
        ? 'No episode in this WebSocket session yet: send a reset frame or call openenv/session/create first.'
        : "tools/call needs a 'session_id': every tool call is a step of an episode; call openenv/session/create (task_id, seed) first.",
    );
  }
  try {
    const reason = params._meta?.reason;
    return callToolResult(await session.callTool(params.name, params.arguments ?? {}, reason === undefined ? {} : { reason }));
  } catch (e) {
    throw failureToJsonRpc(e, ctx, params.session_id);
  }
}

async function sessionCreate(params: z.output<(typeof paramSchemas)['openenv/session/create']>, ctx: JsonRpcContext): Promise<unknown> {
  const tenant = requireTenant(ctx);
  try {
    const ws = ctx.wsSession;
    if (ws && ws.episodeId !== null) {
      // Inside a WebSocket the session exists already: return it (OpenEnv does the same).
      return { session_id: ws.episodeId, ...episodeStart(await ctx.service.getEpisode(tenant, ws.episodeId)) };
    }
    const taskId = params.task_id ?? ctx.defaultTaskId;
    if (ws) {
      await ws.reset({ task_id: taskId, seed: params.seed ?? null, agent: params.agent ?? null });
      return { session_id: ws.episodeId, ...episodeStart(await ctx.service.getEpisode(tenant, ws.requireEpisode())) };
    }
    const view = await ctx.service.createEpisode({
      tenant,
      taskId,
      ...(params.seed === undefined ? {} : { seed: params.seed }),
      ...(params.agent === undefined ? {} : { agent: params.agent }),
    });
    return { session_id: view.episode_id, ...episodeStart(view) };
  } catch (e) {
    throw failureToJsonRpc(e, ctx);
  }
}

async function sessionClose(params: z.output<(typeof paramSchemas)['openenv/session/close']>, ctx: JsonRpcContext): Promise<unknown> {
  if (ctx.wsSession && ctx.wsSession.episodeId === params.session_id) {
    throw new JsonRpcFailure(JSON_RPC.INVALID_REQUEST, 'Cannot close the session of the current WebSocket connection; close the connection instead.');
  }
  try {
    await ctx.service.getEpisode(requireTenant(ctx), params.session_id);
  } catch (e) {
    throw failureToJsonRpc(e, ctx, params.session_id);
  }
  // Episodes are kept (they are the record of what happened); closing only ends the session.
  return { session_id: params.session_id, closed: true };
}

async function dispatch(method: Method, params: Record<string, unknown>, ctx: JsonRpcContext): Promise<unknown> {
  switch (method) {
    case 'tools/list':
      return toolsList(parseParams(method, params), ctx);
    case 'tools/call':
      return toolsCall(parseParams(method, params), ctx);
    case 'openenv/session/create':
      return sessionCreate(parseParams(method, params), ctx);
    case 'openenv/session/close':
      return sessionClose(parseParams(method, params), ctx);
  }
}

/** Handles one already-parsed JSON-RPC message; always returns exactly one response (notifications too, with id null). */
export async function handleJsonRpcMessage(message: unknown, ctx: JsonRpcContext): Promise<JsonRpcResponse> {
  if (Array.isArray(message)) return errorResponse(null, JSON_RPC.PARSE_ERROR, 'Parse error: batch requests are not supported.');
  const envelope = envelopeSchema.safeParse(message);
  if (!envelope.success) {
    const errors = pydanticErrors(envelope.error, message);
    return errorResponse(null, JSON_RPC.INVALID_REQUEST, `Invalid request: ${describeErrors(errors)}`, { errors });
  }
  const { method, params = {} } = envelope.data;
  const id = envelope.data.id ?? null;
  if (!isMethod(method)) {
    const hint =
      method === 'initialize' && ctx.standardMcpPath
        ? { hint: `This is OpenEnv JSON-RPC (no initialize); standard MCP (Streamable HTTP) is served at ${ctx.standardMcpPath}.` }
        : null;
    return errorResponse(id, JSON_RPC.METHOD_NOT_FOUND, `Method not found: ${echoText(method)}`, hint);
  }
  try {
    return { jsonrpc: '2.0', id, result: await dispatch(method, params, ctx) };
  } catch (e) {
    const failure = failureToJsonRpc(e, ctx);
    return errorResponse(id, failure.code, failure.message, failure.data);
  }
}

/**
 * Handles one JSON-RPC message as text: text that is not JSON is a parse error (-32700), JSON
 * nested deeper than the wire limit an invalid request (-32600). Its size the transport
 * (fastify's bodyLimit, the WebSocket's maxPayload) has limited already.
 */
export async function handleJsonRpcText(text: string, ctx: JsonRpcContext): Promise<JsonRpcResponse> {
  const parsed = parseJsonWithLimits(text, { maxBytes: Number.POSITIVE_INFINITY });
  if (parsed.ok) return handleJsonRpcMessage(parsed.value, ctx);
  if (parsed.problem === 'invalid_json') return errorResponse(null, JSON_RPC.PARSE_ERROR, `Parse error: ${parsed.message}`);
  return errorResponse(null, JSON_RPC.INVALID_REQUEST, `Invalid request: ${parsed.message}`);
}
