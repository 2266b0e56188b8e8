import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { echoText, parseJsonWithLimits } from '../../core/src';
import type { TenantId } from '../../episodes/src';
import { classifyFailure, type Failure } from './failure';
import { handleJsonRpcMessage, handleJsonRpcText, type JsonRpcContext } from './json-rpc';
import { isWsFrameType, parseAction, resetKwargsSchema, wsFrameSchemas } from './openenv-messages';
import { OpenEnvSession } from './openenv-session';
import { describeErrors, pydanticErrors, type PydanticError } from './pydantic-errors';
import type { ServerContext } from './server-context';
import type { CapacityRefusal } from './session-capacity';
import { errorFrame, runConnection, type FrameReply } from './websocket-connection';

/**
 * WebSocket /ws, OpenEnv's session protocol (§5): one connection = one session, whose
 * episode is the one its last `reset` frame started (it lives across resets). And
 * WebSocket /mcp: bare JSON-RPC frames against one session per connection (§6).
 */

function capacityFrame({ message, active_sessions, max_sessions }: CapacityRefusal): Record<string, unknown> {
  return errorFrame('CAPACITY_REACHED', message, { active_sessions, max_sessions });
}

function validationFrame(message: string, errors: PydanticError[]): Record<string, unknown> {
  return errorFrame('VALIDATION_ERROR', `Invalid message: ${message}`, { errors });
}

/** An error while executing reset/step/state: VALIDATION_ERROR if the input was wrong, else EXECUTION_ERROR. */
function failureFrame(failure: Failure): Record<string, unknown> {
  if (failure.kind === 'invalid') {
    const field = typeof failure.details.field === 'string' ? [failure.details.field] : [];
    return validationFrame(failure.message, [{ type: 'value_error', loc: field, msg: failure.message, input: null }]);
  }
  return errorFrame('EXECUTION_ERROR', failure.message, { error_code: failure.code });
}

export async function openEnvWebSocketRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/ws', { websocket: true }, (socket, request) => {
    let session: OpenEnvSession | null = null;
    let closed = false;
    const sessionFor = (tenant: TenantId) => (session ??= new OpenEnvSession(ctx.service, tenant, ctx.defaultTaskId));
    const fault = (error: unknown) => {
      const failure = classifyFailure(error);
      if (failure.kind === 'internal') request.log.error({ err: error }, '/ws frame failed');
      return failureFrame(failure);
    };

    async function onFrame(text: string, tenant: TenantId): Promise<FrameReply> {
      if (closed) return null;
      // The frame's size the socket's maxPayload has limited already; its depth is checked here.
      const parsedFrame = parseJsonWithLimits(text, { maxBytes: Number.POSITIVE_INFINITY });
      if (!parsedFrame.ok) return errorFrame('INVALID_JSON', parsedFrame.message);
      const frame = parsedFrame.value;
      const type = typeof frame === 'object' && frame !== null && !Array.isArray(frame) ? (frame as { type?: unknown }).type : undefined;
      if (!isWsFrameType(type)) return errorFrame('UNKNOWN_TYPE', `Unknown message type: ${type === undefined ? 'None' : echoText(String(type))}`);
      const parsed = wsFrameSchemas[type].safeParse(frame);
      if (!parsed.success) {
        const errors = pydanticErrors(parsed.error, frame);
        return validationFrame(describeErrors(errors), errors);
      }
      const current = sessionFor(tenant);
      const data = (parsed.data as { data?: Record<string, unknown> }).data;
      switch (type) {
        case 'reset': {
          const kwargs = resetKwargsSchema.safeParse(data ?? {});
          if (!kwargs.success) {
            const errors = pydanticErrors(kwargs.error, data);
            return validationFrame(describeErrors(errors), errors);
          }
          return { type: 'observation', data: await current.reset(kwargs.data) };
        }
        case 'step': {
          const action = parseAction(data);
          if (!action.success) {
            const errors = pydanticErrors(action.error, data);
            return validationFrame(describeErrors(errors), errors);
          }
          return { type: 'observation', data: await current.step(action.action) };
        }
        case 'state':
          return { type: 'state', data: await current.state() };
        case 'close':
          closed = true;
          socket.close(1000, 'closed by client');
          return null;
        case 'mcp': {
          const rpc: JsonRpcContext = { service: ctx.service, tenant, defaultTaskId: ctx.defaultTaskId, wsSession: current, standardMcpPath: ctx.standardMcpPath, log: request.log };
          return { type: 'mcp', data: await handleJsonRpcMessage(data, rpc) };
        }
      }
    }

    runConnection(socket, request, ctx, { onFrame, onFault: fault }, capacityFrame);
  });
}

/** WebSocket /mcp: each frame a bare JSON-RPC request, each reply a bare response; one session per connection. */
export function jsonRpcWebSocketHandler(ctx: ServerContext) {
  return (socket: WebSocket, request: FastifyRequest) => {
    let session: OpenEnvSession | null = null;
    runConnection(
      socket,
      request,
      ctx,
      {
        onFrame: async (text, tenant) => {
          session ??= new OpenEnvSession(ctx.service, tenant, ctx.defaultTaskId);
          const rpc: JsonRpcContext = { service: ctx.service, tenant, defaultTaskId: ctx.defaultTaskId, wsSession: session, standardMcpPath: ctx.standardMcpPath, log: request.log };
          return { ...(await handleJsonRpcText(text, rpc)) };
        },
        onFault: (error) => {
          request.log.error({ err: error }, 'WebSocket /mcp frame failed');
          return { jsonrpc: '2.0', id: null, error: { code: -32603, message: classifyFailure(error).message, data: null } };
        },
      },
      ({ message, active_sessions, max_sessions }) => ({ jsonrpc: '2.0', id: null, error: { code: -32000, message, data: { active_sessions, max_sessions } } }),
    );
  };
}
