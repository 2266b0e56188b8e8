import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createEpisode as createEpisodeRecord, type TrainerFactory } from '../../core/src';
import {
  EpisodeServiceError,
  type EpisodeService,
  type EpisodeSummary,
  type EpisodeView,
  type StepRequest,
  type StepView,
  type TenantId,
} from '../../episodes/src/episode-service';
import { callSha256, StoredEpisodeService } from '../../episodes/src/stored-episode-service';
import { HttpError } from '../../server/src/http-error';
import { BlobStore, type CheckpointPointer, type EpisodeStore } from '../../storage/src';
import type { StepRouting } from './config';
import type { EpisodeQuota } from './episode-quota';
import { InvokedFunctionError, InvokeTimeoutError, type GradeInvoker, type TrainingInvoker } from './invokers';
import { estimateStep } from './step-estimate';
import type { CloudItems, StepFailure, StepStatus } from './table-items';
import { unwrapTrainingResponse, type TrainingStepEvent } from './training-protocol';

/** The 202 answer's code; the api app turns the error body into `{step_id, status, poll}`. */
export const STEP_PENDING_CODE = 'step_pending';

export interface PendingStep {
  step_id: string;
  status: 'pending' | 'running';
  poll: string;
  requested_at: string;
  deadline_at: string;
}

export function pollPath(episodeId: string, stepId: string): string {
  return `/v1/episodes/${encodeURIComponent(episodeId)}/steps/${encodeURIComponent(stepId)}`;
}

/** Thrown by a step that was not answered synchronously: the REST layer answers 202 with the details. */
export function pendingAnswer(episodeId: string, status: Pick<StepStatus, 'step_id' | 'state' | 'requested_at' | 'deadline_at'>): HttpError {
  const pending: PendingStep = {
    step_id: status.step_id,
    status: status.state === 'running' ? 'running' : 'pending',
    poll: pollPath(episodeId, status.step_id),
    requested_at: status.requested_at,
    deadline_at: status.deadline_at,
  };
  return new HttpError(202, STEP_PENDING_CODE, `The step is executing; poll ${pending.poll}.`, { ...pending });
}

/** Marks where the probe service would have touched a trainer or a checkpoint: the step must execute in the training Lambda. */
class NeedsTraining extends Error {
  override readonly name = 'NeedsTraining';
}

const PROBE_TRAINERS: TrainerFactory = {
  create: async () => {
    throw new NeedsTraining();
  },
  restore: async () => {
    throw new NeedsTraining();
  },
};

/** The checkpoint bucket as the api Lambda sees it: it has no S3 access, and needs none. */
class NoCheckpoints extends BlobStore {
  override async getCheckpoint(_pointer: CheckpointPointer): Promise<Uint8Array> {
    throw new NeedsTraining();
  }
  override async putCheckpoint(): Promise<void> {
    throw new Error('The api Lambda never writes checkpoints.');
  }
}

/** The api Lambda's invocation (its remaining time bounds a synchronous step). */
const invocation = new AsyncLocalStorage<{ remainingMs: () => number }>();

/** Runs fn with the Lambda's remaining time available to the steps it starts. */
export function withInvocationDeadline<T>(remainingMs: () => number, fn: () => Promise<T>): Promise<T> {
  return invocation.run({ remainingMs }, fn);
}

export interface CloudEpisodeServiceOptions {
  episodes: EpisodeStore;
  /** Any BlobStore of the deployment (its client and bucket are never used for checkpoints here). */
  checkpoints: BlobStore;
  items: CloudItems;
  training: TrainingInvoker;
  /** Invoked (asynchronously) when a step ends an episode; null: nobody is told (the batch run grades it). */
  grade: GradeInvoker | null;
  routing: StepRouting;
  /** Each tenant's monthly episode quota (a slot is taken before an episode is created); absent: none. */
  quota?: EpisodeQuota;
  clock?: () => Date;
  newId?: () => string;
  /** Without a Lambda invocation (tests): how long a synchronous step may take. Default: the sync budget + 5 s. */
  defaultSyncWaitMs?: number;
  log?: { info(message: string, details?: Record<string, unknown>): void; warn(message: string, details?: Record<string, unknown>): void };
  count?: (metric: string) => void;
}

export type StepPoll = { kind: 'done'; view: StepView } | { kind: 'pending'; pending: HttpError };

/**
 * The EpisodeService of the api Lambda. Episodes are created, read and listed directly
 * (StoredEpisodeService over DynamoDB); steps execute in the training Lambda:
 *
 * 1. The stored service itself is run first as a *probe*, with trainers and checkpoint
 *    reads that refuse: everything it answers without training is answered here exactly as
 *    it would be (request_id validation, unknown episode, replay of a stored request_id, a
 *    request_id reused for another call, `episode_over` after the end). Only a call that
 *    must execute reaches the point where it would restore a trainer: that one goes on.
 * 2. Its duration is estimated (run_epochs: epochs × seconds per epoch); within
 *    SYNC_STEP_BUDGET_MS the training Lambda is invoked synchronously and its step view
 *    returned, else it is invoked asynchronously with the step recorded as pending, and the
 *    answer is a 202 naming the step to poll. A synchronous step that outlives the api
 *    Lambda's time becomes pending the same way (it goes on in the training Lambda).
 * 3. A step that ends the episode asks the grade Lambda (asynchronously) to grade it.
 *
 * Every step carries a request_id (the client's, or one generated here): it is the step id
 * a poll names, and it makes every retry of the invocation safe (the stored service
 * replays instead of executing twice).
 */
export class CloudEpisodeService implements EpisodeService {
  private readonly episodes: EpisodeStore;
  private readonly probe: StoredEpisodeService;
  private readonly items: CloudItems;
  private readonly training: TrainingInvoker;
  private readonly grade: GradeInvoker | null;
  private readonly routing: StepRouting;
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly options: CloudEpisodeServiceOptions;

  constructor(options: CloudEpisodeServiceOptions) {
    this.options = options;
    this.episodes = options.episodes;
    this.items = options.items;
    this.training = options.training;
    this.grade = options.grade;
    this.routing = options.routing;
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
    this.probe = new StoredEpisodeService({
      episodes: options.episodes,
      checkpoints: new NoCheckpoints(options.checkpoints.s3, options.checkpoints.bucket),
      trainers: PROBE_TRAINERS,
      clock: this.clock,
      ...(options.newId ? { newId: options.newId } : {}),
    });
  }

  async createEpisode(input: { tenant: TenantId; taskId: string; seed?: number }): Promise<EpisodeView> {
    // The batch run looks for abandoned episodes tenant by tenant: the tenant is known before its first episode exists.
    await this.items.tenants.touch(input.tenant);
    const quota = this.options.quota;
    // A request the core refuses (unknown task, bad seed) is answered as before and takes no slot.
    if (quota === undefined || !isCreatable(input)) return this.probe.createEpisode(input);
    let reservation;
    try {
      reservation = await quota.reserve(input.tenant);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 429) {
        this.options.count?.('EpisodeQuotaExceeded');
        this.options.log?.info('episode quota exceeded', { ...error.details });
      }
      throw error;
    }
    try {
      return await this.probe.createEpisode(input);
    } catch (error) {
      // The episode does not exist: its slot is given back (best effort; a lost decrement costs the tenant one episode of this month).
      try {
        await quota.release(reservation);
        this.options.log?.warn('episode creation failed; its quota slot was given back', { period: reservation.period, error: String(error) });
      } catch (releaseError) {
        this.options.count?.('EpisodeQuotaReleaseFailures');
        this.options.log?.warn('episode creation failed and its quota slot could not be given back', {
          period: reservation.period,
          error: String(error),
          release_error: String(releaseError),
        });
      }
      throw error;
    }
  }

  getEpisode(tenant: TenantId, episodeId: string): Promise<EpisodeView> {
    return this.probe.getEpisode(tenant, episodeId);
  }

  listEpisodes(tenant: TenantId, options?: { limit?: number; cursor?: string }): Promise<{ items: EpisodeSummary[]; cursor: string | null }> {
    return this.probe.listEpisodes(tenant, options);
  }

  async step(request: StepRequest): Promise<StepView> {
    try {
      return await this.probe.step({ tenant: request.tenant, episodeId: request.episodeId, call: request.call, ...(request.requestId === undefined ? {} : { requestId: request.requestId }) });
    } catch (error) {
      if (!(error instanceof NeedsTraining)) throw error;
    }
    const { tenant, episodeId, call } = request;
    const episode = await this.episodes.get(tenant, episodeId);
    if (episode === null) throw new EpisodeServiceError('not_found', `No episode ${JSON.stringify(episodeId)}.`, { episode_id: episodeId });
    const callHash = callSha256(call);
    const stepId = request.requestId ?? `step-${this.newId()}`;

    if (request.requestId !== undefined) {
      // The same request already queued or running: wait for that one rather than running it twice.
      const existing = await this.items.steps.get(tenant, episodeId, stepId);
      if (existing && existing.state !== 'failed' && !this.isPast(existing.deadline_at)) {
        this.requireSameCall(existing, callHash, stepId);
        throw pendingAnswer(episodeId, existing);
      }
    }

    const estimate = estimateStep(episode, call, this.routing);
    const requestedAt = this.clock().toISOString();
    const event: TrainingStepEvent = {
      kind: 'ml-trainer.step',
      version: 1,
      mode: 'sync',
      tenant,
      episode_id: episodeId,
      call: { tool: call.tool, arguments: call.arguments ?? {} },
      request_id: stepId,
      call_sha256: callHash,
      requested_at: requestedAt,
    };
    this.options.log?.info('step routed', {
      tool: String(call.tool).slice(0, 64),
      step_id: stepId,
      estimated_ms: estimate.ms,
      epochs: estimate.epochs,
      basis: estimate.basis,
      mode: estimate.ms > this.routing.syncBudgetMs ? 'async' : 'sync',
    });
    if (estimate.ms > this.routing.syncBudgetMs) return this.runAsync(event);
    return this.runSync(event);
  }

  /**
   * A step by its id (the request_id): the stored result once committed (read from the
   * episode item, nothing executes), pending while it runs, or the reason it failed.
   */
  async pollStep(tenant: TenantId, episodeId: string, stepId: string): Promise<StepPoll> {
    const episode = await this.episodes.get(tenant, episodeId);
    if (episode === null) throw new EpisodeServiceError('not_found', `No episode ${JSON.stringify(episodeId)}.`, { episode_id: episodeId });
    const stored = episode.results[stepId];
    if (stored !== undefined) {
      const view = JSON.parse(stored.view) as StepView;
      // The first poll that sees the result removes the pending record; a step that ended the episode asks for its grade.
      if ((await this.items.steps.complete(tenant, episodeId, stepId)) && view.done && view.grade !== null) await this.requestGrade(tenant, episodeId);
      return { kind: 'done', view };
    }
    const status = await this.items.steps.get(tenant, episodeId, stepId);
    if (status === null) {
      throw new HttpError(404, 'not_found', `No step ${JSON.stringify(stepId)} on episode ${JSON.stringify(episodeId)}.`, {
        episode_id: episodeId,
        step_id: stepId,
      });
    }
    if (status.state === 'failed') throw failureAnswer(status, status.failure);
    if (this.isPast(status.deadline_at)) {
      throw failureAnswer(status, {
        kind: status.state === 'pending' && status.mode === 'async' ? 'not_started' : 'timed_out',
        code: 'deadline_exceeded',
        message: `No result by ${status.deadline_at}.`,
      });
    }
    return { kind: 'pending', pending: pendingAnswer(episodeId, status) };
  }

  private async runSync(event: TrainingStepEvent): Promise<StepView> {
    const timeoutMs = this.syncWaitMs();
    let response;
    try {
      response = await this.training.invokeSync(event, { timeoutMs });
    } catch (error) {
      if (error instanceof InvokeTimeoutError) return this.outlived(event);
      if (error instanceof InvokedFunctionError) this.options.count?.('StepFailures');
      if ((error as { name?: string })?.name === 'TooManyRequestsException') {
        // The training Lambda's reserved concurrency is exhausted: nothing ran.
        this.options.count?.('StepsThrottled');
        throw new HttpError(503, 'training_busy', 'Every training worker is busy; send the step again shortly (the same request_id is safe).', {
          step_id: event.request_id,
        });
      }
      throw error;
    }
    this.options.count?.('StepsSync');
    const view = unwrapTrainingResponse(response);
    if (view.done && view.grade !== null && !view.replayed) await this.requestGrade(event.tenant, event.episode_id);
    return view;
  }

  /** The api stopped waiting for a synchronous step: it is recorded as pending (unless it failed already) and polled. */
  private async outlived(event: TrainingStepEvent): Promise<never> {
    this.options.count?.('StepsOutlived');
    const deadline = new Date(Date.parse(event.requested_at) + this.routing.runWithinMs).toISOString();
    const base = {
      episode_id: event.episode_id,
      step_id: event.request_id,
      call_sha256: event.call_sha256,
      tool: String(event.call.tool),
      mode: 'sync' as const,
      requested_at: event.requested_at,
      start_by: event.requested_at,
      deadline_at: deadline,
    };
    // Over nothing, or over the failure of an earlier attempt; a failure this attempt recorded meanwhile is the answer.
    const wrote = await this.items.steps.putPending(event.tenant, base, { failedBefore: event.requested_at });
    if (!wrote) {
      const status = await this.items.steps.get(event.tenant, event.episode_id, event.request_id);
      if (status?.state === 'failed') throw failureAnswer(status, status.failure);
    }
    throw pendingAnswer(event.episode_id, { ...base, state: 'pending' });
  }

  private async runAsync(event: TrainingStepEvent): Promise<never> {
    const requested = Date.parse(event.requested_at);
    const startBy = new Date(requested + this.routing.startWithinMs).toISOString();
    const base = {
      episode_id: event.episode_id,
      step_id: event.request_id,
      call_sha256: event.call_sha256,
      tool: String(event.call.tool),
      mode: 'async' as const,
      requested_at: event.requested_at,
      start_by: startBy,
      deadline_at: new Date(requested + this.routing.startWithinMs + this.routing.runWithinMs).toISOString(),
    };
    if (!(await this.items.steps.putPending(event.tenant, base))) {
      // Another request with this id got there first.
      const status = await this.items.steps.get(event.tenant, event.episode_id, event.request_id);
      if (status && status.state !== 'failed') {
        this.requireSameCall(status, event.call_sha256, event.request_id);
        throw pendingAnswer(event.episode_id, status);
      }
      throw new EpisodeServiceError('in_progress', `Step ${JSON.stringify(event.request_id)} is being requested concurrently; retry.`, {
        step_id: event.request_id,
      });
    }
    try {
      await this.training.invokeAsync({ ...event, mode: 'async', start_by: startBy });
    } catch (error) {
      await this.items.steps.markFailed(event.tenant, base, { kind: 'internal', code: 'invoke_failed', message: 'The training function could not be invoked.' });
      throw error;
    }
    this.options.count?.('StepsAsync');
    throw pendingAnswer(event.episode_id, { ...base, state: 'pending' });
  }

  private async requestGrade(tenant: string, episodeId: string): Promise<void> {
    if (this.grade === null) return;
    try {
      await this.grade.invokeAsync({ source: 'api', tenant, episode_id: episodeId });
      this.options.count?.('GradesRequested');
    } catch (error) {
      // The batch run grades every ended episode anyway.
      this.options.log?.warn('could not queue the grading; the batch run will grade the episode', { episode_id: episodeId, error: String(error) });
    }
  }

  private requireSameCall(status: StepStatus, callHash: string, stepId: string): void {
    if (status.call_sha256 !== callHash) {
      throw new EpisodeServiceError(
        'conflict',
        `request_id ${JSON.stringify(stepId)} is already used by a ${JSON.stringify(status.tool)} step of this episode that is still executing; ` +
          'a new call needs a new request_id.',
        { field: 'request_id', step_id: stepId },
      );
    }
  }

  private isPast(iso: string): boolean {
    return Date.parse(iso) < this.clock().getTime();
  }

  private syncWaitMs(): number {
    const current = invocation.getStore();
    const fallback = this.options.defaultSyncWaitMs ?? this.routing.syncBudgetMs + 5_000;
    if (!current) return fallback;
    return Math.max(1, current.remainingMs() - this.routing.syncInvokeMarginMs);
  }
}

/** Whether the core would create this episode (task and seed valid): only such a request takes a quota slot. */
function isCreatable(input: { taskId: string; seed?: number }): boolean {
  try {
    createEpisodeRecord(input.taskId, input.seed);
    return true;
  } catch {
    return false;
  }
}

/** What a poll (or a retried POST) answers for a step that did not commit: what the synchronous call would have. */
function failureAnswer(status: Pick<StepStatus, 'step_id' | 'tool'>, failure: StepFailure | undefined): Error {
  if (failure?.kind === 'service') {
    const code = failure.code as EpisodeServiceError['code'];
    return new EpisodeServiceError(code, failure.message, failure.details ?? {});
  }
  const reason = failure?.kind ?? 'internal';
  const what =
    reason === 'not_started'
      ? 'was not started in time'
      : reason === 'timed_out'
        ? 'did not finish in time'
        : 'failed in the training function';
  return new HttpError(500, 'step_failed', `The ${status.tool} step ${what} and was not committed; send it again (the same request_id may be reused).`, {
    step_id: status.step_id,
    status: 'failed',
    reason,
  });
}
