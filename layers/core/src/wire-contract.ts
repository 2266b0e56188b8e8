import { z } from 'zod';
import { agentLabelSchema, stepReasonSchema } from './agent-label';
import { KEY_SAFE_ID_MAX_LENGTH, KEY_SAFE_ID_PATTERN } from './key-safe-id';

/**
 * The REST wire contract: what a client may send to create an episode, take a step and list
 * episodes, and the ids it names episodes and steps by, declared once. The local REST server
 * and the api Lambda parse requests with these schemas, the API Gateway request models and
 * /openapi.json are generated from them, the OpenEnv, JSON-RPC and MCP interfaces take the
 * same seeds and ids, and the episodes layer checks request ids with the same pattern. It
 * lives in the core so that each of those layers imports it downward.
 */

export const TASK_ID_MAX_LENGTH = 64;

/** Every seed is exact in JSON, JavaScript and DynamoDB (the generators use its low 32 bits, as torch.manual_seed does). */
export const SEED_MAX = Number.MAX_SAFE_INTEGER;

/** An episode seed on any interface (REST, OpenEnv, MCP). */
export const episodeSeedSchema = z.number().int().min(0).max(SEED_MAX);

export const TOOL_NAME_MAX_LENGTH = 64;

/** A request id becomes part of its step's key: it is a key-safe id. */
export const REQUEST_ID_MAX_LENGTH = KEY_SAFE_ID_MAX_LENGTH;

export const REQUEST_ID_PATTERN = KEY_SAFE_ID_PATTERN;

/** Longest id a client names an episode or step by (REST path, OpenEnv episode_id, JSON-RPC session_id), as OpenEnv's ResetRequest.episode_id. */
export const ID_PARAMETER_MAX_LENGTH = 255;

/**
 * An episode or step id as a client names it: only bounded, not checked against the key-safe
 * pattern, so that an id no episode has is "not found" rather than a validation error.
 */
export const idParameterSchema = z.string().min(1).max(ID_PARAMETER_MAX_LENGTH);

export const LIST_EPISODES_MAX_LIMIT = 100;

export const createEpisodeBodySchema = z
  .object({
    task_id: z.string().min(1).max(TASK_ID_MAX_LENGTH),
    seed: episodeSeedSchema.optional(),
    agent: agentLabelSchema.optional(),
  })
  .strict();

export const stepBodySchema = z
  .object({
    tool: z.string().min(1).max(TOOL_NAME_MAX_LENGTH),
    arguments: z.record(z.string(), z.unknown()).optional(),
    request_id: z.string().min(1).max(REQUEST_ID_MAX_LENGTH).regex(REQUEST_ID_PATTERN).optional(),
    reason: stepReasonSchema.optional(),
  })
  .strict();

export const listEpisodesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(LIST_EPISODES_MAX_LIMIT).optional(),
    cursor: z.string().min(1).max(2048).optional(),
  })
  .strict();
