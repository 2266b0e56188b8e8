import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { agentLabelSchema, describeTools, episodeSeedSchema, MAX_STEPS, STEP_REASON_MAX_LENGTH, stepReasonSchema, taskIds, taskIdsInWords, type EpochProgress } from '../../core/src';
import type { StepView, TenantId } from '../../episodes/src';
import { episodeStart } from './episode-start';
import { classifyFailure } from './failure';
import { pydanticErrors, describeErrors } from './pydantic-errors';
import { openApiSchema } from './openapi-schema';
import type { ServerContext } from './server-context';

/** The episode a standard MCP session plays (one at a time; start_episode starts the next). */
export interface McpEpisodeState {
  tenant: TenantId;
  episodeId: string | null;
}

export const START_EPISODE = 'start_episode';

function startEpisodeDescription(): string {
  return (
    `Start a new episode (and leave the current one, if any): task_id is ${taskIdsInWords()}; ` +
    "seed is optional (default: the task's); agent, optional, says who plays ({policy, model?, version?}). " +
    'Returns the episode id, the task and the first observation. ' +
    `Then call the training tools; the episode allows at most ${MAX_STEPS} tool calls and every call counts.`
  );
}

const seedArgument = episodeSeedSchema.optional().describe("The episode seed: an integer ≥ 0 (default: the task's seed).");
const agentArgument = agentLabelSchema.optional().describe('Who plays the episode: {policy, model?, version?}, stored with it and shown in reports.');

/** A tool call's reason travels in the request's `_meta` (the tool schemas mirror the original environment's). */
const callMetaSchema = z.object({ reason: stepReasonSchema.optional() }).passthrough();

/** For the listed JSON Schema: the task ids the registry knows now, as an enum. */
function startEpisodeListedSchema() {
  const ids = taskIds() as [string, ...string[]];
  return z.object({ task_id: z.enum(ids).describe(`The task: ${taskIdsInWords()}.`), seed: seedArgument, agent: agentArgument }).strict();
}

/** For parsing: any task_id string, so that the environment itself says which ones exist. */
const startEpisodeArguments = z.object({ task_id: z.string(), seed: seedArgument, agent: agentArgument }).strict();

const INSTRUCTIONS =
  'ML Training Optimizer environment. Call start_episode(task_id, seed?) first, then configure_training, ' +
  'run_epochs, adjust_learning_rate, toggle_augmentation, get_training_status as you see fit, and submit_model ' +
  `to be graded. An episode allows at most ${MAX_STEPS} tool calls (every call counts, an invalid one too) and an epoch ` +
  'budget per task. Each result carries the reward of that step and whether the episode is done.';

function jsonSchemaOf(schema: z.ZodType): Tool['inputSchema'] {
  return openApiSchema(schema) as Tool['inputSchema'];
}

function listedTools(): Tool[] {
  return [
    { name: START_EPISODE, description: startEpisodeDescription(), inputSchema: jsonSchemaOf(startEpisodeListedSchema()) },
    ...describeTools().map(({ name, description, input_schema }) => ({ name, description, inputSchema: input_schema as Tool['inputSchema'] })),
  ];
}

function result(payload: Record<string, unknown>, isError: boolean): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload, isError };
}

function errorResult(message: string, details: Record<string, unknown> = {}): CallToolResult {
  return result({ error: { message, ...details } }, true);
}

/** A step as a standard MCP tool result: the tool's data with the step's reward and whether the episode is done. */
function stepResult(step: StepView): CallToolResult {
  const payload = {
    episode_id: step.episode_id,
    step: step.step,
    tool: step.tool,
    reward: step.reward,
    done: step.done,
    error: step.error,
    grade: step.grade,
    data: step.data,
  };
  return result(payload, step.error !== null);
}

/**
 * One McpServer per standard MCP session (an McpServer serves one transport). The tool
 * handlers are installed on its low-level server rather than through registerTool, because
 * registerTool validates arguments before the handler runs: invalid arguments would then
 * be refused for free, while on every other interface they are a step (the environment
 * counts every call). The listed input schemas are the core's, from its zod schemas.
 */
export function buildMcpServer(ctx: ServerContext, state: McpEpisodeState, log: { error(obj: unknown, msg: string): void }): McpServer {
  const mcp = new McpServer({ name: 'ml-trainer-env', version: ctx.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });

  const failureResult = (error: unknown): CallToolResult => {
    const failure = classifyFailure(error);
    if (failure.kind === 'internal') log.error({ err: error }, 'standard MCP tool call failed');
    return errorResult(failure.message, { code: failure.code, ...failure.details });
  };

  mcp.server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listedTools() }));

  mcp.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    if (name === START_EPISODE) {
      const parsed = startEpisodeArguments.safeParse(args);
      if (!parsed.success) return errorResult(`start_episode: ${describeErrors(pydanticErrors(parsed.error, args))}`, { code: 'invalid_arguments' });
      try {
        const view = await ctx.service.createEpisode({
          tenant: state.tenant,
          taskId: parsed.data.task_id,
          ...(parsed.data.seed === undefined ? {} : { seed: parsed.data.seed }),
          ...(parsed.data.agent === undefined ? {} : { agent: parsed.data.agent }),
        });
        state.episodeId = view.episode_id;
        return result({ ...episodeStart(view) }, false);
      } catch (e) {
        return failureResult(e);
      }
    }
    if (state.episodeId === null) {
      return errorResult(`No episode yet: call ${START_EPISODE} (task_id, seed?) first.`, { code: 'no_episode' });
    }
    const meta = callMetaSchema.safeParse(request.params._meta ?? {});
    if (!meta.success) {
      // Refused before the environment sees the call: nothing ran, the step is not spent.
      return errorResult(
        `_meta.reason must be text of at most ${STEP_REASON_MAX_LENGTH} characters without control characters other than newline and tab; nothing ran. Send the call again with a shorter reason or none.`,
        { code: 'invalid_request', field: '_meta.reason' },
      );
    }
    const reason = meta.data.reason;
    const progressToken = extra._meta?.progressToken;
    const onEpoch =
      progressToken === undefined
        ? undefined
        : (p: EpochProgress) => {
            const loss = Number.isFinite(p.train_loss) ? String(p.train_loss) : 'not finite (diverged)';
            const message = `epoch ${p.epoch} (${p.index}/${p.total}): train_loss ${loss}, val_accuracy ${p.val_accuracy ?? 'n/a'}`;
            void extra
              .sendNotification({ method: 'notifications/progress', params: { progressToken, progress: p.index, total: p.total, message } })
              .catch(() => undefined);
          };
    try {
      const step = await ctx.service.step({
        tenant: state.tenant,
        episodeId: state.episodeId,
        call: { tool: name, arguments: args, ...(reason === undefined ? {} : { reason }) },
        ...(onEpoch === undefined ? {} : { onEpoch }),
      });
      return stepResult(step);
    } catch (e) {
      return failureResult(e);
    }
  });

  return mcp;
}
