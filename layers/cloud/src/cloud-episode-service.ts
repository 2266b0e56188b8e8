import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { boundedReason, createEpisode as createEpisodeRecord, DatasetUnavailableError, needsTrainingData, stepStatusPath, type Logger, type ToolCall } from '../../core/src';
import {
  busyRefusal,
  EpisodeServiceError,
  isSameRequest,
  loadEpisode,
  planStep,
  stepNotFound,
  storedStepView,
  StoredEpisodeCatalog,
  StoredEpisodeService,
  type DeferredStepService,
  type EpisodeCatalog,
  type EpisodeReader,
  type CreateEpisodeInput,
  type EpisodeSummary,
  type EpisodeView,
  type LeaseReader,
  type PendingStep,
  type PlannedStep,
  type StepOutcome,
  type StepPlan,
  type StepRequest,
  type TenantId,
  waitForLeaseEnd,
} from '../../episodes/src';
import { storedResultOf, type BlobStore, type EpisodeLease, type EpisodeStore } from '../../storage/src';
import type { StepRouting } from './config';
import { episodeQuotaExceeded, type EpisodeQuota } from './episode-quota';
import { InvokedFunctionError, InvokeTimeoutError, isInvokeRefusal, isThrottled, type GradeInvoker, type TrainingInvoker } from './invokers';
import { estimateStep } from './step-estimate';
import type { CloudItems, StepFailure, StepStatus } from './table-items';
import { unwrapTrainingResponse, type TrainingStepEvent } from './training-protocol';

/** The outcome of a step that was not answered synchronously: the step to poll. */
function pendingOutcome(episodeId: string, status: Pick<StepStatus, 'step_id' | 'state' | 'requested_at' | 'deadline_at' | 'progress'>): StepOutcome {
  const pending: PendingStep = {
    step_id: status.step_id,
    status: status.state === 'running' ? 'running' : 'pending',
    poll: stepStatusPath(episodeId, status.step_id),
    requested_at: status.requested_at,
    deadline_at: status.deadline_at,
    // The epochs the training Lambda finished so far (step-progress-writer.ts).
    ...(status.progress === undefined ? {} : { progress: status.progress }),
  };
  return { kind: 'pending', pending };
}

/** The api Lambda's invocation (its remaining time bounds a synchronous step). */
const invocation = new AsyncLocalStorage<{ remainingMs: () => number }>();

/** Runs fn with the Lambda's remaining time available to the steps it starts. */
export function withInvocationDeadline<T>(remainingMs: () => number, fn: () => Promise<T>): Promise<T> {
  return invocation.run({ remainingMs }, fn);
}

/** How long a caller refused because the training function is throttled or refused the invoke should wait (Retry-After). */
export const TRAINING_RETRY_AFTER_MS = 5_000;

export interface CloudEpisodeServiceOptions {
  episodes: EpisodeStore;
  /** The checkpoint bucket, as the stored service takes it; steps executed in the api only record trainer calls and never touch it. */
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
  logger?: Pick<Logger, 'info' | 'warn'>;
  count?: (metric: string) => void;
}

/**
 * The episodes and steps of the api Lambda. Episodes are created, read and listed directly
 * (StoredEpisodeCatalog over DynamoDB); steps execute here or in the training Lambda:
 *
 * 1. The step is planned from the episode item alone (planStep, which only reads): what it
 *    answers without training is answered here exactly as the stored service would
 *    (request_id validation, unknown episode, replay of a stored request_id, a request_id
 *    reused for another call, `episode_over` after the end). Only a step that must execute
 *    goes on.
 * 1b. Single flight: while another step executes on the episode (holds its lease), the call
 *    is refused with `episode_busy` without invoking anything (naming the running step to
 *    poll); a duplicate of the executing request waits for its result (or answers its
 *    pending step). Whoever executes takes the lease itself (StoredEpisodeService), so a race
 *    past this check still executes once.
 * 1c. A step that makes no pass over the training data (the core's needsTrainingData: every
 *    call but a run_epochs that trains, rejected calls included) executes here, through the
 *    stored service with trainers 'record': same lease, same conditional commit; its trainer
 *    calls (building or reconfiguring the model, augmentation) are stored on the item as
 *    pending operations that the next training step replays before it trains. Nothing is
 *    invoked, TensorFlow is never loaded, and long steps of other episodes cannot delay it.
 * 2. A run_epochs that trains: its duration is estimated (run_epochs: epochs × seconds per epoch); within
 *    SYNC_STEP_BUDGET_MS the training Lambda is invoked synchronously and its step view
 *    is the outcome, else it is invoked asynchronously with the step recorded as pending,
 *    and the outcome is pending, naming the step to poll. A synchronous step that outlives
 *    the api Lambda's time becomes pending the same way (it goes on in the training Lambda).
 * 3. A step that ends the episode asks the grade Lambda (asynchronously) to grade it.
 *
 * Every step carries a request_id (the client's, or one generated here): it is the step id
 * a poll names, and it makes every retry of the invocation safe (the stored service
 * replays instead of executing twice).
 */
export class CloudEpisodeService implements EpisodeCatalog, DeferredStepService {
  /** Steps that train and polls only read episodes (and their leases); the others commit through `here`. */
  private readonly episodes: EpisodeReader & LeaseReader & Pick<EpisodeStore, 'getWithLease'>;
  private readonly catalog: StoredEpisodeCatalog;
  /** Steps that need no training data, executed here (1c). */
  private readonly here: StoredEpisodeService;
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
    this.catalog = new StoredEpisodeCatalog({ episodes: options.episodes, clock: this.clock, ...(options.newId ? { newId: options.newId } : {}) });
    this.here = new StoredEpisodeService({
      episodes: options.episodes,
      checkpoints: options.checkpoints,
      trainers: 'record',
      clock: this.clock,
      ...(options.newId ? { newId: options.newId } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  async createEpisode(input: CreateEpisodeInput): Promise<EpisodeView> {
    // The batch run looks for abandoned episodes tenant by tenant: the tenant is known before its first episode exists.
    await this.items.tenants.touch(input.tenant);
    const quota = this.options.quota;
    // A request the core refuses (unknown task, bad seed, bad agent label) is answered as before and takes no slot.
    if (quota === undefined || !isCreatable(input)) return this.catalog.createEpisode(input);
    const reservation = await quota.reserve(input.tenant);
    if (reservation.kind === 'exceeded') {
      const refusal = episodeQuotaExceeded(reservation);
      this.options.count?.('EpisodeQuotaExceeded');
      this.options.logger?.info('episode quota exceeded', refusal.details);
      throw refusal;
    }
    try {
      return await this.catalog.createEpisode(input);
    } catch (error) {
      // The episode does not exist: its slot is given back (best effort; a lost decrement costs the tenant one episode of this month).
      try {
        await quota.release(reservation);
        this.options.logger?.warn('episode creation failed; its quota slot was given back', { period: reservation.period, error: String(error) });
      } catch (releaseError) {
        this.options.count?.('EpisodeQuotaReleaseFailures');
        this.options.logger?.warn('episode creation failed and its quota slot could not be given back', {
          period: reservation.period,
          error: String(error),
          release_error: String(releaseError),
        });
      }
      throw error;
    }
  }

  getEpisode(tenant: TenantId, episodeId: string): Promise<EpisodeView> {
    return this.catalog.getEpisode(tenant, episodeId);
  }

  listEpisodes(tenant: TenantId, options?: { limit?: number; cursor?: string }): Promise<{ items: EpisodeSummary[]; cursor: string | null }> {
    return this.catalog.listEpisodes(tenant, options);
  }

  async submitStep(request: StepRequest): Promise<StepOutcome> {
    // One read of the item gives the plan its episode and single flight its lease (items are 17-60 KB).
    let lease: EpisodeLease | null = null;
    const plan = await planStep(
      {
        get: async (tenant, episodeId) => {
          const read = await this.episodes.getWithLease(tenant, episodeId);
          lease = read?.lease ?? null;
          return read?.episode ?? null;
        },
      },
      request,
    );
    if (plan.kind === 'answer') return { kind: 'done', view: plan.view };
    if (!needsTrainingData(plan.step.episode.record, plan.step.call)) return this.executeHere(request, plan, lease);
    const { episode, call, callHash, requestId } = plan.step;
    const { tenant, episode_id: episodeId } = episode;
    const stepId = requestId ?? `step-${this.newId()}`;

    if (requestId !== undefined) {
      // The same request already queued or running: wait for that one rather than running it twice.
      const existing = await this.items.steps.get(tenant, episodeId, stepId);
      if (existing && existing.state !== 'failed' && !this.isPast(existing.deadline_at)) {
        this.requireSameCall(existing, callHash, stepId);
        return pendingOutcome(episodeId, existing);
      }
    }
    const executed = await this.resultOfExecuting(request, plan.step, lease);
    if (executed !== null) return executed;

    const estimate = estimateStep(episode, call, this.routing);
    const requestedAt = this.clock().toISOString();
    const event: TrainingStepEvent = {
      kind: 'ml-trainer.step',
      version: 1,
      mode: 'sync',
      tenant,
      episode_id: episodeId,
      call: trainingCall(call),
      request_id: stepId,
      call_sha256: callHash,
      requested_at: requestedAt,
    };
    this.options.logger?.info('step routed', {
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
   * A step that needs no training data, executed and committed here (1c). Single flight as
   * for any step; a plan made without a lease to respect goes to the stored service as it is
   * (one read of the item per step). A duplicate whose first call ended uncommitted is
   * routed again from scratch: the episode may have changed meanwhile.
   */
  private async executeHere(request: StepRequest, plan: Extract<StepPlan, { kind: 'execute' }>, lease: EpisodeLease | null): Promise<StepOutcome> {
    if (lease !== null) return (await this.resultOfExecuting(request, plan.step, lease)) ?? this.submitStep(request);
    const view = await this.here.step(request, plan);
    this.options.count?.('StepsInApi');
    if (view.done && view.grade !== null && !view.replayed) await this.requestGrade(plan.step.episode.tenant, plan.step.episode.episode_id);
    return { kind: 'done', view };
  }

  /**
   * A step by its id (the request_id): the stored result once committed (read from the
   * episode item, nothing executes), pending while it runs, or the reason it failed.
   */
  async pollStep(tenant: TenantId, episodeId: string, stepId: string): Promise<StepOutcome> {
    const episode = await loadEpisode(this.episodes, tenant, episodeId);
    const stored = storedResultOf(episode, stepId);
    if (stored !== undefined) {
      const view = storedStepView(stored);
      // The first poll that sees the result removes the pending record; a step that ended the episode asks for its grade.
      if ((await this.items.steps.complete(tenant, episodeId, stepId)) && view.done && view.grade !== null) await this.requestGrade(tenant, episodeId);
      return { kind: 'done', view };
    }
    const status = await this.items.steps.get(tenant, episodeId, stepId);
    if (status === null) throw stepNotFound(episodeId, stepId);
    if (status.state === 'failed') throw failureAnswer(status, status.failure);
    if (this.isPast(status.deadline_at)) {
      throw failureAnswer(status, {
        kind: status.state === 'pending' && status.mode === 'async' ? 'not_started' : 'timed_out',
        code: 'deadline_exceeded',
        message: `No result by ${status.deadline_at}.`,
      });
    }
    return pendingOutcome(episodeId, status);
  }

  private async runSync(event: TrainingStepEvent): Promise<StepOutcome> {
    const timeoutMs = this.syncWaitMs();
    let response;
    try {
      response = await this.training.invokeSync(event, { timeoutMs });
    } catch (error) {
      if (error instanceof InvokeTimeoutError) return this.outlived(event);
      if (error instanceof InvokedFunctionError) this.options.count?.('StepFailures');
      // The training Lambda refused the invocation (its concurrency exhausted, …): nothing ran.
      if (isThrottled(error)) throw this.trainingRefused(event, error);
      throw error;
    }
    this.options.count?.('StepsSync');
    const view = unwrapTrainingResponse(response);
    if (view.done && view.grade !== null && !view.replayed) await this.requestGrade(event.tenant, event.episode_id);
    return { kind: 'done', view };
  }

  /** 503 training_busy (with Retry-After) for an invocation Lambda refused: nothing ran, nothing is pending. */
  private trainingRefused(event: TrainingStepEvent, error: unknown): EpisodeServiceError {
    const throttled = isThrottled(error);
    this.options.count?.(throttled ? 'StepsThrottled' : 'StepsRefused');
    this.options.logger?.warn('the training function refused the invocation', { step_id: event.request_id, mode: event.mode, error: String(error) });
    const why = throttled ? 'Every training worker is busy' : `The training function refused the invocation (${(error as { name?: string })?.name ?? 'Error'})`;
    return new EpisodeServiceError('training_busy', `${why}; nothing ran. Send the step again shortly (the same request_id is safe).`, {
      step_id: event.request_id,
      reason: throttled ? 'throttled' : 'invoke_refused',
      next_attempt_at: new Date(this.clock().getTime() + TRAINING_RETRY_AFTER_MS).toISOString(),
    });
  }

  /** The api stopped waiting for a synchronous step: it is recorded as pending (unless it failed already) and polled. */
  private async outlived(event: TrainingStepEvent): Promise<StepOutcome> {
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
    return pendingOutcome(event.episode_id, { ...base, state: 'pending' });
  }

  private async runAsync(event: TrainingStepEvent): Promise<StepOutcome> {
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
        return pendingOutcome(event.episode_id, status);
      }
      throw new EpisodeServiceError('in_progress', `Step ${JSON.stringify(event.request_id)} is being requested concurrently; retry.`, {
        step_id: event.request_id,
      });
    }
    try {
      await this.training.invokeAsync({ ...event, mode: 'async', start_by: startBy });
    } catch (error) {
      if (isInvokeRefusal(error)) {
        // Nothing was queued: the step is not pending, and the same request may simply be sent again.
        await this.items.steps.withdrawPending(event.tenant, base);
        throw this.trainingRefused(event, error);
      }
      // Unknown outcome (the invocation may have been queued): a poll reports the failure, a late start cannot commit past it unseen.
      await this.items.steps.markFailed(event.tenant, base, { kind: 'internal', code: 'invoke_failed', message: 'The training function could not be invoked.' });
      throw error;
    }
    this.options.count?.('StepsAsync');
    return pendingOutcome(event.episode_id, { ...base, state: 'pending' });
  }

  /**
   * Single flight before anything is invoked: while another step holds the episode's lease
   * the call is refused with episode_busy at once; while this same request executes (a
   * duplicate) its result is awaited and replayed, or its pending step answered. Null when
   * no step executes: invoke.
   */
  private async resultOfExecuting(request: StepRequest, planned: PlannedStep, lease: EpisodeLease | null): Promise<StepOutcome | null> {
    const { tenant, episode_id: episodeId } = planned.episode;
    if (lease === null) return null;
    if (!isSameRequest(lease, planned)) throw busyAnswer(lease, planned);
    const ended = await waitForLeaseEnd(this.episodes, planned, lease, { maxWaitMs: this.syncWaitMs() });
    const replan = await planStep(this.episodes, request);
    if (replan.kind === 'answer') return { kind: 'done', view: replan.view };
    if (ended) return null;
    // The first call outlived its api request: it is pending, and so is this one.
    const status = await this.items.steps.get(tenant, episodeId, planned.requestId!);
    if (status && status.state !== 'failed') return pendingOutcome(episodeId, status);
    throw new EpisodeServiceError('in_progress', `Step ${JSON.stringify(planned.requestId)} is still executing; send it again shortly (the same request_id is safe).`, {
      step_id: planned.requestId,
    });
  }

  private async requestGrade(tenant: string, episodeId: string): Promise<void> {
    if (this.grade === null) return;
    try {
      await this.grade.invokeAsync({ source: 'api', tenant, episode_id: episodeId });
      this.options.count?.('GradesRequested');
    } catch (error) {
      // The batch run grades every ended episode anyway.
      this.options.logger?.warn('could not queue the grading; the batch run will grade the episode', { episode_id: episodeId, error: String(error) });
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

/**
 * episode_busy (or the request_id conflict) of single flight, naming the step that runs: an
 * agent can poll it, or read the last committed state with GET /v1/episodes/{id} (not a
 * step). A call during a running step is refused rather than answered from the last
 * committed record, because every call on an active episode is a step of it (counted,
 * rewarded, replayable by its request_id) and the running step commits over that record.
 */
function busyAnswer(lease: EpisodeLease, planned: PlannedStep): EpisodeServiceError {
  const refusal = busyRefusal(lease, planned);
  if (refusal.code !== 'episode_busy' || lease.request_id === null) return refusal;
  const poll = stepStatusPath(planned.episode.episode_id, lease.request_id);
  return new EpisodeServiceError(
    'episode_busy',
    `${refusal.message} The running step ${JSON.stringify(lease.request_id)} answers at GET ${poll}; ` +
      `GET /v1/episodes/${encodeURIComponent(planned.episode.episode_id)} reads the last committed state without taking a step.`,
    { ...refusal.details, running_step_id: lease.request_id, poll },
  );
}

/** The call as the training Lambda receives it: the reason goes along (bounded as the core stores it), so the step it commits carries it. */
function trainingCall(call: ToolCall): ToolCall {
  const reason = typeof call.reason === 'string' ? boundedReason(call.reason) : undefined;
  return { tool: call.tool, arguments: call.arguments ?? {}, ...(reason === undefined ? {} : { reason }) };
}

/** Whether the core would create this episode (task, seed and agent label valid): only such a request takes a quota slot. */
function isCreatable(input: Pick<CreateEpisodeInput, 'taskId' | 'seed' | 'agent'>): boolean {
  try {
    createEpisodeRecord(input.taskId, input.seed, input.agent);
    return true;
  } catch {
    return false;
  }
}

/** What a poll (or a retried POST) answers for a step that did not commit: what the synchronous call would have. */
function failureAnswer(status: Pick<StepStatus, 'step_id' | 'tool'>, failure: StepFailure | undefined): EpisodeServiceError | DatasetUnavailableError {
  if (failure?.kind === 'dataset_unavailable') {
    const detail = failure.details as DatasetUnavailableError['detail'] | undefined;
    return new DatasetUnavailableError(failure.message, detail ?? { dataset: 'unknown', data_dir: 'the datasets bucket', next_attempt_at: null });
  }
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
  return new EpisodeServiceError('step_failed', `The ${status.tool} step ${what} and was not committed; send it again (the same request_id may be reused).`, {
    step_id: status.step_id,
    status: 'failed',
    reason,
  });
}
