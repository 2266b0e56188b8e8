import { pythonRound, type AgentLabel, type EpochProgress, type Grade, type Observation, type ToolCall } from '../../core/src';
import type { AgentEnvironment, EpisodeSession, ToolOutcome } from './environment';
import { epochsUsed, readObservation } from './observation-view';
import type { ModelUsage, Policy } from './policy';

/** One played step, as progress displays and summaries see it. */
export interface PlayedStep {
  call: ToolCall;
  reason?: string;
  outcome: ToolOutcome;
  /** The observation after the step. */
  observation: Observation;
}

export interface PlayOptions {
  environment: AgentEnvironment;
  policy: Policy;
  taskId: string;
  seed?: number;
  /** Who plays, stored with the episode (default: the policy's name and model). */
  agent?: AgentLabel;
  onStart?: (session: EpisodeSession) => void;
  onStep?: (step: PlayedStep) => void;
  /** Per-epoch progress, where the environment reports it (in-process). */
  onEpoch?: (progress: EpochProgress) => void;
  /** Explanations from the policy. */
  log?: (message: string) => void;
}

export interface EpisodeResult {
  episode_id: string;
  task_id: string;
  seed: number;
  policy: string;
  agent: AgentLabel;
  /** What the policy spent on its model, for a policy that calls one. */
  model_usage?: ModelUsage;
  /** How the episode ended: submitted by the policy, auto-submitted at the step limit, or ended elsewhere. */
  status: 'submitted' | 'auto_submitted' | 'ended';
  /** Null only when the episode ended without this client seeing its grade. */
  grade: Grade | null;
  total_reward: number;
  steps: number;
  epochs_used: number;
  best_val_accuracy: number;
  best_val_epoch: number;
  history: PlayedStep[];
}

/** Plays one episode of a task with a policy, from the first step to the end of the episode. */
export async function playEpisode(options: PlayOptions): Promise<EpisodeResult> {
  const { environment, policy } = options;
  const tools = await environment.listTools();
  const agentLabel = options.agent ?? defaultAgentLabel(policy);
  const session = await environment.startEpisode({ taskId: options.taskId, seed: options.seed, agent: agentLabel });
  try {
    options.onStart?.(session);
    const agent = await policy.start({
      task: session.task,
      seed: session.seed,
      maxSteps: session.maxSteps,
      tools,
      initialObservation: session.initialObservation,
      log: options.log,
    });
    const history: PlayedStep[] = [];
    let observation = session.initialObservation;
    let last: ToolOutcome | null = null;
    // The environment ends the episode at its step limit; a few extra turns tolerate a server that counts differently.
    const turnLimit = session.maxSteps + 3;
    for (let turn = 0; turn < turnLimit && !last?.done; turn++) {
      const decision = await agent.next(last);
      const outcome = await session.call(decision.call.tool, decision.call.arguments, { onEpoch: options.onEpoch, reason: decision.reason });
      observation = readObservation(outcome.data, observation);
      const played: PlayedStep = { call: decision.call, reason: decision.reason, outcome, observation };
      history.push(played);
      options.onStep?.(played);
      last = outcome;
    }
    if (!last?.done) throw new Error(`the episode did not end within ${turnLimit} steps`);
    const grade = last.grade ?? (last.data.grade as Grade | undefined) ?? null;
    const status = last.data.auto_submitted === true ? 'auto_submitted' : last.tool === 'submit_model' && !last.error ? 'submitted' : 'ended';
    return {
      episode_id: session.episodeId,
      task_id: session.task.task_id,
      seed: session.seed,
      policy: policy.name,
      agent: agentLabel,
      ...(agent.usage ? { model_usage: agent.usage() } : {}),
      status,
      grade,
      total_reward: pythonRound(history.reduce((sum, s) => sum + s.outcome.reward, 0), 4),
      steps: history.filter((s) => !(s.outcome.error?.code === 'episode_over')).length,
      epochs_used: epochsUsed(observation),
      best_val_accuracy: observation.best_val_accuracy,
      best_val_epoch: observation.best_val_epoch,
      history,
    };
  } finally {
    await session.close();
  }
}

/** The label an episode gets when the caller gives none: the policy's name and its model. */
export function defaultAgentLabel(policy: Policy): AgentLabel {
  return { policy: policy.name, ...(policy.model === undefined ? {} : { model: policy.model }) };
}
