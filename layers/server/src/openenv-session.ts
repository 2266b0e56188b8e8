import type { EpisodeService, StepView, TenantId } from '../../episodes/src';
import { episodeStart, episodeState, NO_EPISODE_STATE } from './episode-start';
import { HttpError } from './http-error';
import type { OpenEnvAction, ResetKwargs } from './openenv-messages';
import { openEnvTools } from './tool-listing';
import { callToolObservation } from './tool-result';

/** What /reset, /step and the /ws observation frame carry (§3): the observation, reward and done. */
export interface ObservationEnvelope {
  observation: Record<string, unknown>;
  reward: number | null;
  done: boolean;
}

/**
 * One OpenEnv session: a tenant and the episode its last reset started. A /ws connection
 * holds one for its lifetime; the HTTP routes build one per request around an episode id.
 * Every tool call goes through the EpisodeService (a step, with its reward); listing the
 * tools does not.
 */
export class OpenEnvSession {
  private done = false;

  constructor(
    private readonly service: EpisodeService,
    readonly tenant: TenantId,
    private readonly defaultTaskId: string,
    public episodeId: string | null = null,
  ) {}

  /** Starts a new episode (task_id, default the configured one; seed, default the task's; agent, who plays it). */
  async reset(kwargs: ResetKwargs): Promise<ObservationEnvelope> {
    const view = await this.service.createEpisode({
      tenant: this.tenant,
      taskId: kwargs.task_id ?? this.defaultTaskId,
      ...(kwargs.seed === undefined || kwargs.seed === null ? {} : { seed: kwargs.seed }),
      ...(kwargs.agent === undefined || kwargs.agent === null ? {} : { agent: kwargs.agent }),
    });
    this.episodeId = view.episode_id;
    this.done = false;
    // OpenEnv drops Observation.metadata on the wire; we send it (an object, never null) as the
    // only place a Python MCPToolClient can read the task from.
    return { observation: { metadata: episodeStart(view) }, reward: 0, done: false };
  }

  async step(action: OpenEnvAction, requestId?: string): Promise<ObservationEnvelope> {
    if (action.type === 'list_tools') return { observation: { tools: openEnvTools() }, reward: 0, done: this.done };
    const step = await this.callTool(action.tool_name, action.arguments, {
      ...(requestId === undefined ? {} : { requestId }),
      ...(action.reason === undefined ? {} : { reason: action.reason }),
    });
    return { observation: callToolObservation(step), reward: step.reward, done: step.done };
  }

  /** One tool call on this session's episode: a step (with the agent's reason, where it gave one). */
  async callTool(tool: string, args: Record<string, unknown>, options: { requestId?: string; reason?: string } = {}): Promise<StepView> {
    const step = await this.service.step({
      tenant: this.tenant,
      episodeId: this.requireEpisode(),
      call: { tool, arguments: args, ...(options.reason === undefined ? {} : { reason: options.reason }) },
      ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
    });
    this.done = step.done;
    return step;
  }

  async state(): Promise<Record<string, unknown>> {
    if (this.episodeId === null) return { ...NO_EPISODE_STATE };
    return episodeState(await this.service.getEpisode(this.tenant, this.episodeId));
  }

  requireEpisode(): string {
    if (this.episodeId === null) {
      throw new HttpError(409, 'no_episode', 'No episode in this session: reset first (a reset starts an episode; task_id chooses the task).');
    }
    return this.episodeId;
  }
}
