import type { AgentLabel, EpisodeRecord, EpochProgress, Grade, Observation, TaskDefinition, ToolDescription } from '../../core/src';

/** What the agent knows about the task it plays (the catalogue entry `reset` returns). */
export type TaskInfo = Pick<
  TaskDefinition,
  'task_id' | 'name' | 'description' | 'difficulty' | 'max_epochs' | 'target_value' | 'min_score_accuracy' | 'max_score_accuracy'
>;

/** An error a tool call reported (the call still counted as a step). */
export interface ToolError {
  code: string;
  message: string;
  field?: string;
  allowed?: unknown;
}

/** The outcome of one tool call, however the environment is reached. */
export interface ToolOutcome {
  /** The step number this call was (1..15); for a call after the end, the episode's last step. */
  step: number;
  tool: string;
  /** What the tool returned: a message, the observation fields and tool-specific fields. */
  data: Record<string, unknown>;
  error: ToolError | null;
  reward: number;
  done: boolean;
  /** Set on the step that ended the episode. */
  grade: Grade | null;
  /** True when a remote server answered a retried request from its stored result. */
  replayed?: boolean;
}

export interface CallOptions {
  /** Called after every trained epoch, where the environment can report it. */
  onEpoch?: (progress: EpochProgress) => void;
  /** The agent's short reason for the call, stored with the step (cut to STEP_REASON_MAX_LENGTH). */
  reason?: string;
}

/** One episode being played. */
export interface EpisodeSession {
  readonly episodeId: string;
  readonly task: TaskInfo;
  readonly seed: number;
  readonly maxSteps: number;
  /** The observation before the first step. */
  readonly initialObservation: Observation;
  /** Executes one tool call; every call while the episode is active is a step. */
  call(tool: string, args?: unknown, options?: CallOptions): Promise<ToolOutcome>;
  /** The episode's record as it stands (full histories, steps with their reasons): what evals and reports read. */
  readRecord(): Promise<EpisodeRecord>;
  /** Frees what the session holds (a trainer); the episode itself is not changed. */
  close(): Promise<void>;
}

/** Where an agent plays: in this process, or against a server. */
export interface AgentEnvironment {
  /** A label for messages: "in-process" or the server's URL. */
  readonly description: string;
  /** The tools with their descriptions and JSON Schemas (listing them is not a step). */
  listTools(): Promise<ToolDescription[]>;
  /** Starts an episode of a task (seed: the task's own by default), labelled with who plays it. */
  startEpisode(input: { taskId: string; seed?: number; agent?: AgentLabel }): Promise<EpisodeSession>;
}

export type AgentEnvironmentErrorCode =
  /** The server refused the request (4xx): not retried. */
  | 'rejected'
  /** The server kept failing (5xx, 429, in progress) or could not be reached, after every retry. */
  | 'unavailable'
  /** The server answered something that is not the API's shape. */
  | 'bad_response';

/** A failure of the environment itself (not a tool error, which comes back inside a ToolOutcome). */
export class AgentEnvironmentError extends Error {
  override readonly name = 'AgentEnvironmentError';
  constructor(
    readonly code: AgentEnvironmentErrorCode,
    message: string,
    readonly info: { status?: number; errorCode?: string; details?: unknown; attempts?: number } = {},
  ) {
    super(message);
  }
}
