import { performance } from 'node:perf_hooks';
import { DatasetUnavailableError, type EpochProgress, type Logger, type TrainerFactory } from '../../core/src';
import { EpisodeServiceError, StoredEpisodeService } from '../../episodes/src';
import type { BlobStore, EpisodeStore } from '../../storage/src';
import { StepProgressWriter } from './step-progress-writer';
import type { CloudItems, StepFailure, StepStatus } from './table-items';
import { datasetUnavailableResponse, parseTrainingEvent, serviceErrorResponse, type TrainingStepEvent, type TrainingStepResponse } from './training-protocol';

export interface TrainingRuntimeOptions {
  episodes: EpisodeStore;
  checkpoints: BlobStore;
  items: CloudItems;
  /** The trainers (the training handler: lazy real tfjs trainers; tests: the formula trainer). */
  trainers: TrainerFactory;
  clock?: () => Date;
  /** Milliseconds of a monotonic clock (billing); default performance.now. */
  monotonicMs?: () => number;
  /** A running step cannot outlast the invocation by more than this (the deadline a poll reports against). */
  deadlineMarginMs?: number;
  /**
   * How long an executing step's lease lasts between renewals (default the stored service's
   * DEFAULT_STEP_LEASE_MS): the invocation renews it while the step runs, so one that ends
   * abruptly (timeout, crash) leaves a lease that lapses within this time.
   */
  leaseMs?: number;
  logger?: Logger;
  count?: (metric: string, value?: number) => void;
}

/** What the training Lambda knows about its own invocation (a subset of Lambda's Context). */
export interface InvocationInfo {
  memoryLimitInMB: string | number;
  getRemainingTimeInMillis(): number;
}

/**
 * What the training Lambda does with one step event: runs it through the stored service
 * (single flight, request_id replay, checkpoint in S3), keeps the step's record current for
 * polls (running, or failed with the reason), and meters an invocation that executed the
 * step on the episode: memory × billed duration. The first invocation of a container is
 * metered with its initialisation (Lambda bills the INIT phase too), whatever it did; the
 * lazy loading of tfjs-node and the dataset copy happen inside a step, so they are in its
 * duration. Any later replay or refusal executed nothing and is not metered.
 */
export class TrainingRuntime {
  private readonly service: StoredEpisodeService;
  private readonly items: CloudItems;
  private readonly clock: () => Date;
  private readonly monotonicMs: () => number;
  private pendingInitMs: number;

  constructor(
    private readonly options: TrainingRuntimeOptions,
    /** Milliseconds the container spent initialising before the first invocation (billed with it). */
    initMs = 0,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.items = options.items;
    this.pendingInitMs = Math.max(0, initMs);
    this.service = new StoredEpisodeService({
      episodes: options.episodes,
      checkpoints: options.checkpoints,
      trainers: options.trainers,
      clock: this.clock,
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  async handle(rawEvent: unknown, invocation: InvocationInfo): Promise<TrainingStepResponse> {
    const started = this.monotonicMs();
    const event = parseTrainingEvent(rawEvent);
    const base: Pick<StepStatus, 'episode_id' | 'step_id' | 'call_sha256' | 'tool' | 'mode' | 'requested_at'> = {
      episode_id: event.episode_id,
      step_id: event.request_id,
      call_sha256: event.call_sha256,
      tool: String(event.call.tool),
      mode: event.mode,
      requested_at: event.requested_at,
    };
    let executed = false;
    let episodeExists = true;
    // An asynchronous step's epochs go into its item as they finish, for polls. A synchronous one has no item
    // (its answer comes within the sync budget), so it writes none: a failed conditional write is billed too.
    const progress =
      event.mode === 'async'
        ? new StepProgressWriter(
            (p) => this.items.steps.recordProgress(event.tenant, base, p),
            (error) => this.options.logger?.warn('could not record the step progress', { step_id: event.request_id, error: String(error) }),
          )
        : null;
    try {
      if (event.mode === 'async') {
        if (event.start_by !== undefined && Date.parse(event.start_by) < this.clock().getTime()) {
          await this.fail(event, base, { kind: 'not_started', code: 'not_started', message: `The step was not started by ${event.start_by}.` });
          this.options.count?.('StepsNotStarted');
          return { ok: false, skipped: 'not_started' };
        }
        const deadline = new Date(this.clock().getTime() + invocation.getRemainingTimeInMillis() + (this.options.deadlineMarginMs ?? 60_000));
        await this.items.steps.markRunning(event.tenant, event.episode_id, event.request_id, deadline.toISOString());
      }
      const view = await this.service.step({
        tenant: event.tenant,
        episodeId: event.episode_id,
        call: event.call,
        requestId: event.request_id,
        onExecuting: () => {
          executed = true;
        },
        ...(progress === null ? {} : { onEpoch: (epoch: EpochProgress) => progress.epoch(epoch) }),
      });
      this.options.count?.(view.replayed ? 'StepsReplayed' : 'StepsExecuted');
      if (view.done && !view.replayed) this.options.count?.('EpisodesEnded');
      return { ok: true, view };
    } catch (error) {
      if (error instanceof EpisodeServiceError) {
        // The episode is gone: nothing to record (its items share its key).
        episodeExists = error.code !== 'not_found';
        if (episodeExists) await this.fail(event, base, { kind: 'service', code: error.code, message: error.message, details: error.details });
        return serviceErrorResponse(error);
      }
      if (error instanceof DatasetUnavailableError) {
        this.options.count?.('StepsDatasetUnavailable');
        await this.fail(event, base, { kind: 'dataset_unavailable', code: error.code, message: error.message, details: { ...error.detail } });
        return datasetUnavailableResponse(error);
      }
      this.options.count?.('StepFaults');
      await this.fail(event, base, { kind: 'internal', code: 'training_error', message: 'The training function failed while executing the step.' });
      throw error;
    } finally {
      await progress?.flush();
      // The container's initialisation is metered with the invocation that paid it, even one that executed nothing.
      if (executed || (this.pendingInitMs > 0 && episodeExists)) await this.meter(event, invocation, this.monotonicMs() - started + this.takeInitMs());
    }
  }

  /** The container's initialisation, billed with the first metered invocation. */
  private takeInitMs(): number {
    const initMs = this.pendingInitMs;
    this.pendingInitMs = 0;
    return initMs;
  }

  private async fail(event: TrainingStepEvent, base: Parameters<CloudItems['steps']['markFailed']>[1], failure: StepFailure): Promise<void> {
    try {
      await this.items.steps.markFailed(event.tenant, base, failure);
    } catch (error) {
      this.options.logger?.error('could not record the failed step', { step_id: event.request_id, error: String(error) });
    }
  }

  private async meter(event: TrainingStepEvent, invocation: InvocationInfo, billedMs: number): Promise<void> {
    const memoryMb = Number(invocation.memoryLimitInMB);
    try {
      const usage = await this.items.metering.recordInvocation(event.tenant, event.episode_id, {
        memoryMb: Number.isFinite(memoryMb) && memoryMb > 0 ? memoryMb : 0,
        billedMs,
      });
      this.options.count?.('TrainingGbSeconds', usage.lambda_gb_seconds);
    } catch (error) {
      this.options.logger?.error('could not meter the invocation', { episode_id: event.episode_id, error: String(error) });
    }
  }
}
