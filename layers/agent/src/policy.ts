import type { Observation, ToolCall, ToolDescription } from '../../core/src';
import type { TaskInfo, ToolOutcome } from './environment';

/** What a policy is told when an episode starts. */
export interface PolicyContext {
  task: TaskInfo;
  seed: number;
  maxSteps: number;
  tools: ToolDescription[];
  initialObservation: Observation;
  /** Where a policy may explain itself (progress output). */
  log?: (message: string) => void;
}

/** The next call, and why (shown in progress output and JSON lines). */
export interface PolicyDecision {
  call: ToolCall;
  reason?: string;
}

/** What a model-backed policy spent on its chat API in one episode. */
export interface ModelUsage {
  model: string;
  requests: number;
  /** Requests the API refused with 429/5xx or a network error and that were sent again. */
  retries: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/** A policy's state for one episode. */
export interface PolicyEpisode {
  /** Token usage so far, for a policy that calls a model. */
  usage?(): ModelUsage;
  /**
   * The next tool call. `last` is the outcome of the previous call (null before the
   * first); it is never called again once an outcome says done.
   */
  next(last: ToolOutcome | null): Promise<PolicyDecision>;
}

/** A way of playing: one PolicyEpisode per episode. */
export interface Policy {
  readonly name: string;
  /** The model it calls, where there is one (part of the episode's agent label). */
  readonly model?: string;
  start(context: PolicyContext): PolicyEpisode | Promise<PolicyEpisode>;
}
