import type { Logger } from '../../core/src';
import { checkpointPrefix, isValidId, type BlobStore, type EpisodeStore, type StoredEpisode } from '../../storage/src';
import { DEFAULT_SWEEP_MIN_AGE_SECONDS, isOrphanCheckpoint } from './checkpoint-sweep';
import { requireTenant } from './episode-lookup';
import type { EpisodeService, StepRequest, StepView, TenantId } from './episode-service';
import { DEFAULT_STEP_LEASE_MS, type LeaseTimer } from './lease-heartbeat';
import { stepInSingleFlight } from './single-flight';
import { StepExecutor, type StepTrainers } from './step-executor';
import { planStep, type StepPlan } from './step-plan';
import { storableId } from './stored-item';
import { StoredEpisodeCatalog, type StoredEpisodeCatalogOptions } from './stored-episode-catalog';

export interface StoredEpisodeServiceOptions extends StoredEpisodeCatalogOptions {
  /** The checkpoint bucket. */
  checkpoints: BlobStore;
  /** Real trainers, or 'record' (StepTrainers: the trainer calls are kept on the item for the next step that trains). */
  trainers: StepTrainers;
  /** How long an executing step's lease lasts between renewals (default DEFAULT_STEP_LEASE_MS; its holder renews it every third of that). */
  leaseMs?: number;
  /** The lease renewals' timer (default: real intervals; tests beat by hand). */
  leaseTimer?: LeaseTimer;
  /**
   * Where best-effort clean-ups that failed are logged (an orphaned checkpoint stays until
   * sweepCheckpoints), and, at error level, an episode whose checkpoint is unavailable (on
   * console.error if the logger has no error level). Default: console.
   */
  logger?: Pick<Logger, 'warn'> & Partial<Pick<Logger, 'error'>>;
}

/**
 * The EpisodeService over DynamoDB (EpisodeStore) and S3 (BlobStore). One step is planned
 * (step-plan.ts: 1 and 2, reads only) and, unless the plan answers, executed (step-executor.ts):
 *
 *  1. read the episode item (strongly consistent), scoped to the tenant;
 *  2. a request_id already stored on the item returns its stored result (no training), and
 *     a call after the episode ended answers episode_over (nothing stored);
 *  2a. a call that touches no trainer (get_training_status, adjust_learning_rate,
 *     submit_model, a rejected call), read with no live lease on the episode, runs in
 *     memory and commits (7) on that version only while no step holds the lease: no lease
 *     of its own, nothing to upload, two storage round trips instead of three. When that
 *     commit is refused it goes on at 2b with a fresh read;
 *  2b. take the episode's lease at the version read (single-flight.ts): while another step
 *     holds it, the same request waits for its result and any other call is refused with
 *     episode_busy, so one execution per episode runs at a time. The step renews the lease
 *     while it runs (lease-heartbeat.ts), so a crashed executor's lapses within
 *     DEFAULT_STEP_LEASE_MS; a step that finds it lost does not commit;
 *  3. fetch the checkpoint and verify its SHA-256, restore the trainer (a fresh one before
 *     the first step) and replay the item's pending trainer calls on it (trainer_ops, left
 *     by steps that ran with trainers 'record'); all of this only once the call needs it;
 *  4. run the call through the core's executeStep, save the trainer's checkpoint, dispose
 *     the trainer (a trainer fault propagates here with nothing written);
 *  5. build the new item and check its size (refused before anything is written);
 *  6. upload the new checkpoint under a new key (skipped when the bytes are unchanged);
 *  7. conditionally replace the item on the version read in 1, with the record, usage,
 *     checkpoint pointer and the step's stored result in the same single-item write;
 *  8. after the commit, delete the superseded checkpoint. A writer that lost in 7 deletes
 *     its own upload and reports a conflict (only possible once a lease lapsed). The commit
 *     replaces the item without the lease; a step that fails releases it.
 *
 * Idempotency is our own conditional-write design rather than Powertools'. Powertools'
 * DynamoDB persistence layer does run on dynalite (probed: its conditional PutItem works;
 * dynalite ignores ReturnValuesOnConditionCheckFailure and Powertools falls back to a
 * GetItem), but it fits badly: its record is a second item, written before (INPROGRESS)
 * and after (COMPLETED) the function, and without transactions those writes cannot be
 * atomic with the episode's commit. A process that dies between the commit and the
 * COMPLETED write leaves the request_id INPROGRESS; once that lock expires (or at once,
 * without a Lambda context, after the whole record expiry) a retry executes the step a
 * second time on the next version. It also costs two extra writes and a read per step and
 * expires independently of the episode. Here the stored result lives in the episode item's
 * `results` map, written by the same conditional PutItem as the record, so it exists iff
 * the step committed, at exactly the version it committed.
 */
export class StoredEpisodeService extends StoredEpisodeCatalog implements EpisodeService {
  private readonly checkpoints: BlobStore;
  private readonly executor: StepExecutor;
  private readonly leaseMs: number;
  private readonly leaseTimer: LeaseTimer | undefined;
  private readonly logger: Pick<Logger, 'warn'>;

  constructor(options: StoredEpisodeServiceOptions) {
    super(options);
    this.checkpoints = options.checkpoints;
    this.leaseMs = options.leaseMs ?? DEFAULT_STEP_LEASE_MS;
    this.leaseTimer = options.leaseTimer;
    this.logger = options.logger ?? console;
    this.executor = new StepExecutor({
      episodes: options.episodes,
      checkpoints: options.checkpoints,
      trainers: options.trainers,
      clock: this.clock,
      newId: this.newId,
      logger: options.logger ?? console,
    });
  }

  /**
   * One step. A call that touches no trainer, on an episode no step holds, commits without
   * the lease (StepExecutor.executeUnleased); any other in single flight (single-flight.ts):
   * executed holding the episode's lease (renewed meanwhile), released if it fails. `plan`:
   * this request's plan, made by the caller from a fresh read (saves reading the item again;
   * the caller read no lease on it, or none was live).
   */
  async step(request: StepRequest, plan?: StepPlan): Promise<StepView> {
    let leased = false;
    const first = plan ?? (await planStep({ get: (tenant, id) => this.readNotingLease(tenant, id, (live) => (leased = live)) }, request));
    if (first.kind === 'answer') return first.view;
    // The plan read serves single flight's first claim too, unless an unleased commit was refused since.
    let reusable = true;
    if (!leased) {
      const unleased = await this.executor.executeUnleased(first.step);
      if (unleased.kind === 'committed') {
        request.onExecuting?.();
        return unleased.view;
      }
      reusable = unleased.kind === 'needs_trainer';
    }
    const singleFlight = { newHolder: () => storableId(this.newId), leaseMs: this.leaseMs, logger: this.logger, ...(this.leaseTimer ? { leaseTimer: this.leaseTimer } : {}) };
    return stepInSingleFlight(this.episodes, request, singleFlight, async (planned, lease, leaseLost) => {
      request.onExecuting?.();
      try {
        return await this.executor.execute(planned, request.onEpoch, leaseLost);
      } catch (error) {
        // Conditional on holding it: after a commit (the item replaced without the lease) this removes nothing.
        await this.releaseQuietly(planned.episode, lease.holder);
        throw error;
      }
    }, reusable ? first : undefined);
  }

  /** The episode (as EpisodeStore.get) from the same single read that tells whether a live lease is on it. */
  private async readNotingLease(tenant: string, episodeId: string, noteLease: (live: boolean) => void): Promise<StoredEpisode | null> {
    const read = await this.episodes.getWithLease(tenant, episodeId);
    noteLease(read?.lease != null);
    return read?.episode ?? null;
  }

  private async releaseQuietly(episode: StoredEpisode, holder: string): Promise<void> {
    try {
      await this.episodes.releaseLease(episode.tenant, episode.episode_id, holder);
    } catch (error) {
      this.logger.warn('Could not release the lease of a failed step; it lapses at its expiry', { episode_id: episode.episode_id, error: String(error) });
    }
  }

  /**
   * Deletes checkpoint objects of an episode that its item does not point to (left by a
   * process that died between upload and commit, or between commit and clean-up), once
   * they are older than minAgeSeconds by the real clock. Keep the age well above a step's
   * upload-to-commit time: a younger object may belong to a step about to commit. An
   * episode that no longer exists loses all its checkpoints.
   */
  async sweepCheckpoints(
    tenant: TenantId,
    episodeId: string,
    options: { minAgeSeconds?: number } = {},
  ): Promise<{ deleted: string[] }> {
    requireTenant(tenant);
    if (!isValidId(episodeId)) return { deleted: [] };
    const minAgeMs = (options.minAgeSeconds ?? DEFAULT_SWEEP_MIN_AGE_SECONDS) * 1000;
    const listed = await this.checkpoints.listAll(checkpointPrefix(tenant, episodeId));
    const episode = await this.episodes.get(tenant, episodeId);
    const keep = episode?.checkpoint?.key;
    const cutoff = Date.now() - minAgeMs;
    // At 0 every unreferenced object goes, one of unknown age too (isOrphanCheckpoint keeps that).
    const stale = listed.filter((o) => (minAgeMs <= 0 ? o.key !== keep : isOrphanCheckpoint(o, keep, cutoff))).map((o) => o.key);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: deleteMany of no keys sends no request (its batch loop runs zero times), so the guard only skips a no-op
    if (stale.length > 0) await this.checkpoints.deleteMany(stale);
    return { deleted: stale };
  }
}

/** The service over a Storage (the local runtime, or createStorageFromEnv in a Lambda). */
export function createStoredEpisodeService(
  storage: { episodes: EpisodeStore; checkpoints: BlobStore },
  trainers: StepTrainers,
  options: Omit<StoredEpisodeServiceOptions, 'episodes' | 'checkpoints' | 'trainers'> = {},
): StoredEpisodeService {
  return new StoredEpisodeService({ ...options, episodes: storage.episodes, checkpoints: storage.checkpoints, trainers });
}
