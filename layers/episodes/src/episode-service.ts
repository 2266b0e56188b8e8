import type { CoreErrorInfo, EpisodeRecord, EpochProgress, Grade, ToolCall } from '../../core/src';

/** Who owns an episode. Every operation is scoped to one tenant; another tenant's episode does not exist for it. */
export type TenantId = string;

export interface EpisodeUsage {
  steps: number;
  epochs_trained: number;
  training_seconds: number;
}

export interface EpisodeSummary {
  episode_id: string;
  tenant: TenantId;
  task_id: string;
  seed: number;
  status: EpisodeRecord['status'];
  step_count: number;
  best_val_accuracy: number;
  score: number | null;
  /** Optimistic-locking version: +1 per committed step. */
  version: number;
  created_at: string;
  updated_at: string;
}

export interface EpisodeView extends EpisodeSummary {
  record: EpisodeRecord;
  usage: EpisodeUsage;
}

/** The outcome of one committed step, as every interface returns it. */
export interface StepView {
  episode_id: string;
  version: number;
  step: number;
  tool: string;
  data: Record<string, unknown>;
  error: CoreErrorInfo | null;
  reward: number;
  done: boolean;
  grade: Grade | null;
  /** True when a repeated request_id returned the stored result without executing again. */
  replayed: boolean;
}

export interface StepRequest {
  tenant: TenantId;
  episodeId: string;
  call: ToolCall;
  /** Repeating a request_id returns the first execution's stored result. */
  requestId?: string;
  onEpoch?: (progress: EpochProgress) => void;
}

/**
 * Episodes as a service: what the local server, the Lambdas and the in-process agent all call.
 * Implementations persist every committed step (record + checkpoint) before returning.
 */
export interface EpisodeService {
  createEpisode(input: { tenant: TenantId; taskId: string; seed?: number }): Promise<EpisodeView>;
  step(request: StepRequest): Promise<StepView>;
  getEpisode(tenant: TenantId, episodeId: string): Promise<EpisodeView>;
  listEpisodes(tenant: TenantId, options?: { limit?: number; cursor?: string }): Promise<{ items: EpisodeSummary[]; cursor: string | null }>;
}

export type EpisodeServiceErrorCode = 'not_found' | 'conflict' | 'invalid_request' | 'in_progress';

/** Failures of the service itself (not tool errors, which come back inside a StepView). */
export class EpisodeServiceError extends Error {
  override readonly name = 'EpisodeServiceError';
  constructor(
    readonly code: EpisodeServiceErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
