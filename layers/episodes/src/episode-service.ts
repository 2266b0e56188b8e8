import type { AgentLabel, CoreErrorInfo, EpisodeRecord, EpochProgress, Grade, StepResult, ToolCall } from '../../core/src';
import type { StoredEpisodeSummary } from '../../storage/src';

/** Who owns an episode. Every operation is scoped to one tenant; another tenant's episode does not exist for it. */
export type TenantId = string;

export interface EpisodeUsage {
  steps: number;
  epochs_trained: number;
  training_seconds: number;
}

/** An episode in a listing: what the store projects for it (no record, no results). */
export type EpisodeSummary = StoredEpisodeSummary;

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

/** The view every interface returns, as plain JSON (what a replay returns too). */
export function stepView(episodeId: string, version: number, result: StepResult): StepView {
  const view: StepView = {
    episode_id: episodeId,
    version,
    step: result.record.step_count,
    tool: result.tool,
    data: result.data,
    error: result.error,
    reward: result.reward,
    done: result.done,
    grade: result.grade,
    replayed: false,
  };
  return JSON.parse(JSON.stringify(view)) as StepView;
}

export interface StepRequest {
  tenant: TenantId;
  episodeId: string;
  /** The call; its `reason` is stored with the step (a replayed request_id keeps the first execution's). */
  call: ToolCall;
  /** Repeating a request_id returns the first execution's stored result. */
  requestId?: string;
  onEpoch?: (progress: EpochProgress) => void;
  /**
   * Called once this request holds the episode's lease and starts executing, or once a call that touches no trainer
   * committed without the lease (not for a replay or a refusal): what is metered.
   */
  onExecuting?: () => void;
}

/** Episodes created, read and listed: what every interface needs besides steps. */
/** What creates an episode: its task, seed and who plays it (the label is validated by the core). */
export interface CreateEpisodeInput {
  tenant: TenantId;
  taskId: string;
  seed?: number;
  agent?: AgentLabel;
}

export interface EpisodeCatalog {
  createEpisode(input: CreateEpisodeInput): Promise<EpisodeView>;
  getEpisode(tenant: TenantId, episodeId: string): Promise<EpisodeView>;
  listEpisodes(tenant: TenantId, options?: { limit?: number; cursor?: string }): Promise<{ items: EpisodeSummary[]; cursor: string | null }>;
}

/**
 * Episodes as a service: what the local server, the Lambdas and the in-process agent all call.
 * Implementations persist every committed step (record + checkpoint) before returning.
 */
export interface EpisodeService extends EpisodeCatalog {
  step(request: StepRequest): Promise<StepView>;
}

/**
 * Why the service refused a request. The first four are every service's; the others are a
 * deferred step service's (deferred-step-service.ts): the monthly episode quota is used up
 * (details: limit, used, period, resets_at), every training worker is busy (nothing ran),
 * a submitted step failed or missed its deadline without committing. episode_busy: another
 * step is executing on the episode (single flight, single-flight.ts); nothing ran.
 */
export const EPISODE_SERVICE_ERROR_CODES = [
  'not_found',
  'conflict',
  'invalid_request',
  'in_progress',
  'episode_quota_exceeded',
  'training_busy',
  'step_failed',
  'episode_busy',
] as const;

export type EpisodeServiceErrorCode = (typeof EPISODE_SERVICE_ERROR_CODES)[number];

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
