import { z } from 'zod';

/**
 * The REST wire contract: what a client may send to create an episode, take a step and list
 * episodes, declared once. The local REST server and the api Lambda parse bodies with these
 * schemas, the API Gateway request models are generated from them at synth time, and the
 * episodes layer checks request ids with the same pattern. It lives in the core so that each
 * of those layers imports it downward.
 */

export const TASK_ID_MAX_LENGTH = 64;

/** Every seed is exact in JSON, JavaScript and DynamoDB (the generators use its low 32 bits, as torch.manual_seed does). */
export const SEED_MAX = Number.MAX_SAFE_INTEGER;

/** An episode seed on any interface (REST, OpenEnv, MCP). */
export const episodeSeedSchema = z.number().int().min(0).max(SEED_MAX);

export const TOOL_NAME_MAX_LENGTH = 64;

export const REQUEST_ID_MAX_LENGTH = 128;

/** A request id is stored as a key of the episode's item: key-safe characters only. */
export const REQUEST_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:@=+-]{0,${REQUEST_ID_MAX_LENGTH - 1}}$`);

export const LIST_EPISODES_MAX_LIMIT = 100;

export const createEpisodeBodySchema = z
  .object({
    task_id: z.string().min(1).max(TASK_ID_MAX_LENGTH),
    seed: episodeSeedSchema.optional(),
  })
  .strict();

export const stepBodySchema = z
  .object({
    tool: z.string().min(1).max(TOOL_NAME_MAX_LENGTH),
    arguments: z.record(z.string(), z.unknown()).optional(),
    request_id: z.string().min(1).max(REQUEST_ID_MAX_LENGTH).regex(REQUEST_ID_PATTERN).optional(),
  })
  .strict();

export const listEpisodesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(LIST_EPISODES_MAX_LIMIT).optional(),
    cursor: z.string().min(1).max(2048).optional(),
  })
  .strict();
