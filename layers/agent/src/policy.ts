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

/** A policy's state for one episode. */
export interface PolicyEpisode {
  /**
   * The next tool call. `last` is the outcome of the previous call (null before the
   * first); it is never called again once an outcome says done.
   */
  next(last: ToolOutcome | null): Promise<PolicyDecision>;
}

/** A way of playing: one PolicyEpisode per episode. */
export interface Policy {
  readonly name: string;
  start(context: PolicyContext): PolicyEpisode | Promise<PolicyEpisode>;
}
