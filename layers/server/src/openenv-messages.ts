import { z } from 'zod';
import { agentLabelSchema, episodeSeedSchema, ID_PARAMETER_MAX_LENGTH, idParameterSchema, stepReasonSchema } from '../../core/src';

/**
 * The OpenEnv request shapes (pydantic models in the Python reference), as zod schemas.
 * "forbid" models are strict; ResetRequest and StepRequest allow extra keys.
 */

const metadata = z.record(z.string(), z.unknown());

/** StepRequest.request_id's max_length in the OpenEnv reference (the step protocol then asks for a key-safe id). */
const OPENENV_REQUEST_ID_MAX_LENGTH = 255;

export const listToolsActionSchema = z.object({ type: z.literal('list_tools'), metadata: metadata.optional() }).strict();

/**
 * A call's metadata: free-form as in OpenEnv, except `reason`, the agent's reason for the call
 * (for clients whose action model forbids extra keys, as OpenEnv's CallToolAction does).
 */
const callMetadata = z.object({ reason: stepReasonSchema.optional() }).passthrough();

export const callToolActionSchema = z
  .object({
    type: z.literal('call_tool').optional(),
    tool_name: z.string(),
    arguments: z.record(z.string(), z.unknown()).optional(),
    /** Ours: the agent's short reason, stored with the step (not part of the call's identity). */
    reason: stepReasonSchema.optional(),
    metadata: callMetadata.optional(),
  })
  .strict();

export type OpenEnvAction =
  | { type: 'list_tools' }
  | { type: 'call_tool'; tool_name: string; arguments: Record<string, unknown>; reason?: string };

/**
 * The discriminator of §4.2: `type` list_tools → ListToolsAction; anything else is
 * validated as CallToolAction (whose `type` defaults to call_tool).
 */
export function parseAction(value: unknown): { success: true; action: OpenEnvAction } | { success: false; error: z.ZodError } {
  const isListTools = typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'list_tools';
  if (isListTools) {
    const parsed = listToolsActionSchema.safeParse(value);
    return parsed.success ? { success: true, action: { type: 'list_tools' } } : { success: false, error: parsed.error };
  }
  const parsed = callToolActionSchema.safeParse(value);
  if (!parsed.success) return { success: false, error: parsed.error };
  const { tool_name, arguments: args, reason = parsed.data.metadata?.reason } = parsed.data;
  return { success: true, action: { type: 'call_tool', tool_name, arguments: args ?? {}, ...(reason === undefined ? {} : { reason }) } };
}

/**
 * Reset keyword arguments. seed and episode_id as ResetRequest has them; task_id and agent
 * (who plays: {policy, model?, version?}) are ours.
 * Other keys are ignored, as OpenEnv drops kwargs the environment's reset does not take.
 */
export const resetKwargsSchema = z
  .object({
    seed: episodeSeedSchema.nullable().optional(),
    episode_id: z.string().max(ID_PARAMETER_MAX_LENGTH).nullable().optional(),
    task_id: z.string().nullable().optional(),
    agent: agentLabelSchema.nullable().optional(),
  })
  .passthrough();

export type ResetKwargs = z.infer<typeof resetKwargsSchema>;

/** POST /step: `action` required, `timeout_s` > 0, `request_id` as OpenEnv bounds it; extra keys allowed (we read episode_id). */
export const httpStepRequestSchema = z
  .object({
    action: z.record(z.string(), z.unknown()),
    timeout_s: z.number().gt(0).nullable().optional(),
    request_id: z.string().max(OPENENV_REQUEST_ID_MAX_LENGTH).nullable().optional(),
    episode_id: idParameterSchema.nullable().optional(),
  })
  .passthrough();

/** POST /reset: a flat object of reset kwargs, or no body. */
export const httpResetRequestSchema = resetKwargsSchema;

/** The client frames of WebSocket /ws (§5); every frame model forbids extra keys. */
export const wsFrameSchemas = {
  reset: z.object({ type: z.literal('reset'), data: z.record(z.string(), z.unknown()).optional() }).strict(),
  step: z.object({ type: z.literal('step'), data: z.record(z.string(), z.unknown()) }).strict(),
  state: z.object({ type: z.literal('state') }).strict(),
  close: z.object({ type: z.literal('close') }).strict(),
  mcp: z.object({ type: z.literal('mcp'), data: z.record(z.string(), z.unknown()) }).strict(),
} as const;

export type WsFrameType = keyof typeof wsFrameSchemas;

export function isWsFrameType(type: unknown): type is WsFrameType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(wsFrameSchemas, type);
}
