/** Machine-readable kinds of failure the core reports; adapters map them to HTTP, JSON-RPC or exit codes. */
export type CoreErrorCode =
  | 'unknown_task'
  | 'unknown_tool'
  | 'invalid_arguments'
  | 'not_configured'
  | 'episode_over'
  | 'invalid_record'
  | 'invalid_metrics'
  /** The episode's stored trainer state cannot be loaded: training tools cannot run, submit_model still can. */
  | 'checkpoint_unavailable';

/** What went wrong, which field, and what is allowed: everything an agent or a user needs to correct the call. */
export interface CoreErrorInfo {
  code: CoreErrorCode;
  message: string;
  field?: string;
  allowed?: unknown;
}

export class CoreError extends Error {
  override readonly name = 'CoreError';

  constructor(
    readonly code: CoreErrorCode,
    message: string,
    readonly detail: { field?: string; allowed?: unknown } = {},
  ) {
    super(message);
  }

  toInfo(): CoreErrorInfo {
    return { code: this.code, message: this.message, ...this.detail };
  }
}

/**
 * The environment's answer to a training tool on an episode whose stored trainer state
 * cannot be loaded: a tool error (the call is a step like any other), naming the episode and
 * what happened; get_training_status and submit_model do not need the trainer and still work.
 */
export function checkpointUnavailable(episodeId: string, reason: string): CoreError {
  return new CoreError(
    'checkpoint_unavailable',
    `The checkpoint of episode ${episodeId} is unavailable (${reason}), so its model cannot be restored ` +
      'and training tools cannot run. get_training_status works, and submit_model grades the metrics recorded so far.',
  );
}
