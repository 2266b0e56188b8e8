import { createHash } from 'node:crypto';
import {
  checkpointUnavailable,
  executeStep,
  needsTrainingData,
  RecordingTrainer,
  replayTrainerOperations,
  type EpochProgress,
  type Logger,
  type StepResult,
  type TrainerFactory,
  type TrainerOperation,
} from '../../core/src';
import {
  checkpointKey,
  isStorageError,
  type BlobStore,
  type CheckpointPointer,
  type EpisodeStore,
  type PreparedEpisode,
  type StoredEpisode,
} from '../../storage/src';
import { notFound } from './episode-lookup';
import { EpisodeServiceError, stepView, type StepRequest, type StepView } from './episode-service';
import { LazyTrainer } from './lazy-trainer';
import { replayOf, type PlannedStep } from './step-plan';
import { prepareEpisode, storableId } from './stored-item';

export interface StepExecutorOptions {
  episodes: EpisodeStore;
  /** The checkpoint bucket. */
  checkpoints: BlobStore;
  trainers: StepTrainers;
  clock: () => Date;
  newId: () => string;
  /** Without an error level, errors go to console.error: they are never silent. */
  logger: Pick<Logger, 'warn'> & Partial<Pick<Logger, 'error'>>;
}

/**
 * Where a step's trainer calls go: to real trainers (restored from the checkpoint, the
 * pending operations replayed), or 'record': kept as the item's pending operations for the
 * next step that trains (the cloud's api function, which never loads TensorFlow). Only
 * steps for which the core's needsTrainingData is false may execute with 'record'.
 */
export type StepTrainers = TrainerFactory | 'record';

/** What training one step produced, before anything is written. */
interface TrainedStep {
  result: StepResult;
  /** The trainer's new checkpoint; null when the step never needed the trainer (the stored one stays). */
  checkpoint: { bytes: Uint8Array; sha256: string } | null;
  /** The trainer calls pending after the step (none once a checkpoint was saved). */
  trainerOps: readonly TrainerOperation[];
  epochs: number;
  seconds: number;
}

function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/**
 * Executes a planned step and commits it (steps 3 to 8 of StoredEpisodeService): restores
 * the trainer from the checkpoint the item read points to, runs the call, uploads the new
 * checkpoint and conditionally replaces the item on the version the plan read.
 */
export class StepExecutor {
  constructor(private readonly options: StepExecutorOptions) {}

  /** `leaseLost` (single flight): once aborted, the step ends with its reason before anything is written. */
  async execute(planned: PlannedStep, onEpoch?: StepRequest['onEpoch'], leaseLost?: AbortSignal): Promise<StepView> {
    const current = planned.episode;
    const trained = await this.train(planned, onEpoch);
    const { view, prepared, upload } = this.committable(planned, trained);
    // A step that lost its lease does not commit. Should the lease lapse after this check, the
    // commit's condition on the version read still lets at most one of two steps commit.
    leaseLost?.throwIfAborted();

    if (upload !== null) {
      try {
        await this.options.checkpoints.putCheckpoint(upload.pointer, upload.bytes);
      } catch (error) {
        // Nothing points at this key yet: whatever part of it reached the bucket can go.
        await this.deleteQuietly(upload.pointer.key, 'checkpoint of a failed upload');
        throw error;
      }
    }
    try {
      await this.options.episodes.commit(prepared, current.version);
    } catch (error) {
      return this.afterFailedCommit(error, { planned, prepared, uploaded: upload?.pointer.key ?? null, view });
    }
    if (upload !== null && current.checkpoint !== null) await this.deleteQuietly(current.checkpoint.key, 'superseded checkpoint');
    return view;
  }

  /**
   * The step without the episode's lease, when its call touches no trainer
   * (get_training_status, adjust_learning_rate, submit_model, a call the core rejects): it
   * runs on a RecordingTrainer that must record nothing, so it uploads nothing, and commits on
   * the version read only while no other step holds the lease. That saves the lease's write
   * (a third of such a step's storage round trips). `needs_trainer`: the call uses the
   * trainer, nothing was written (the plan still holds); `refused`: the commit found the
   * episode moved on or leased, and the caller takes the lease after a fresh read (single
   * flight), which answers a replay, episode_busy or the next version.
   */
  async executeUnleased(planned: PlannedStep): Promise<{ kind: 'committed'; view: StepView } | { kind: 'needs_trainer' } | { kind: 'refused' }> {
    const trained = await this.withoutTrainer(planned);
    if (trained === null) return { kind: 'needs_trainer' };
    const { view, prepared } = this.committable(planned, trained);
    try {
      await this.options.episodes.commit(prepared, planned.episode.version, { unleased: true });
      return { kind: 'committed', view };
    } catch (error) {
      // The outcome may be unknown (a retried write whose answer was lost): the item read back tells, by its commit id.
      const latest = await this.options.episodes.get(planned.episode.tenant, planned.episode.episode_id).catch(() => {
        throw error;
      });
      if (latest !== null && latest.commit_id === prepared.episode.commit_id) return { kind: 'committed', view };
      if (!isStorageError(error, 'conflict')) throw error;
      return { kind: 'refused' };
    }
  }

  /**
   * The call run on a RecordingTrainer, when that is the step's whole effect: the call needs
   * no data, records no trainer call, and the episode has a checkpoint (before the first, the
   * leased path saves a fresh trainer's) or its trainers are 'record' anyway. Null otherwise.
   */
  private async withoutTrainer({ episode, call }: PlannedStep): Promise<TrainedStep | null> {
    if ((this.options.trainers !== 'record' && episode.checkpoint === null) || needsTrainingData(episode.record, call)) return null;
    const pending = episode.trainer_ops ?? [];
    const recorder = new RecordingTrainer(pending);
    const result = await executeStep(episode.record, call, recorder);
    if (recorder.pending.length !== pending.length) return null;
    return { result, checkpoint: null, trainerOps: pending, epochs: 0, seconds: 0 };
  }

  /** The item a trained step commits, size-checked (nothing is written yet), and the checkpoint to upload first (null: the stored one stays). */
  private committable(planned: PlannedStep, trained: TrainedStep): { view: StepView; prepared: PreparedEpisode; upload: { pointer: CheckpointPointer; bytes: Uint8Array } | null } {
    const { episode: current, requestId, callHash } = planned;
    const now = this.options.clock().toISOString();
    const commitId = storableId(this.options.newId);
    const version = current.version + 1;
    const view = stepView(current.episode_id, version, trained.result);
    const saved = trained.checkpoint;
    const unchanged =
      saved === null ||
      (current.checkpoint !== null &&
        current.checkpoint.sha256 === saved.sha256 &&
        // Stryker disable next-line ConditionalExpression: with equal SHA-256 the sizes are equal (a pointer whose size is wrong fails its restore, and then nothing is saved)
        current.checkpoint.size === saved.bytes.byteLength);
    const pointer: CheckpointPointer = unchanged
      ? current.checkpoint!
      : { key: checkpointKey(current.tenant, current.episode_id, saved.sha256, commitId), sha256: saved.sha256, size: saved.bytes.byteLength };
    const { trainer_ops: _replaced, ...kept } = current;
    const next: StoredEpisode = {
      ...kept,
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the store neither writes nor reads back an empty trainer_ops list (encode/decodeTrainerOps)
      ...(trained.trainerOps.length > 0 ? { trainer_ops: trained.trainerOps } : {}),
      version,
      updated_at: now,
      record: trained.result.record,
      checkpoint: pointer,
      usage: {
        steps: current.usage.steps + 1,
        epochs_trained: current.usage.epochs_trained + trained.epochs,
        training_seconds: roundSeconds(current.usage.training_seconds + trained.seconds),
      },
      results:
        requestId === undefined
          ? current.results
          : { ...current.results, [requestId]: { call_sha256: callHash, version, view: JSON.stringify({ ...view, replayed: false }) } },
      commit_id: commitId,
      ended_at: trained.result.record.status !== 'active' ? now : null,
    };
    // Size check before anything is written.
    const prepared = prepareEpisode(this.options.episodes, next);
    return { view, prepared, upload: unchanged ? null : { pointer, bytes: saved!.bytes } };
  }

  /**
   * Runs the call on a lazily restored trainer (a fresh one before the first step): the
   * checkpoint is loaded only if the call needs the trainer. A trainer fault propagates
   * with nothing written.
   */
  private async train(planned: PlannedStep, onEpoch: StepRequest['onEpoch']): Promise<TrainedStep> {
    const trainers = this.options.trainers;
    if (trainers === 'record') return this.record(planned);
    const { episode, call } = planned;
    const trainer = this.lazyTrainer(episode, trainers);
    let epochs = 0;
    let seconds = 0;
    let result: StepResult;
    let bytes: Uint8Array | null;
    try {
      result = await executeStep(episode.record, call, trainer, {
        onEpoch: (progress: EpochProgress) => {
          epochs += 1;
          seconds += progress.seconds;
          try {
            // Stryker disable next-line OptionalChaining: calling a missing onEpoch throws a TypeError, which the catch below ignores as well
            onEpoch?.(progress);
          } catch {
            // A failing progress display must not fail the step.
          }
        },
      });
      // Never restored: the stored checkpoint is still the trainer's state (also when it could not be loaded).
      bytes = episode.checkpoint !== null && !trainer.materialised ? null : await trainer.saveCheckpoint();
    } finally {
      // Cannot throw (so cannot hide the step's own error): a LazyTrainer disposes the real trainer in the background and ignores its failure.
      trainer.dispose();
    }
    const checkpoint = bytes === null ? null : { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    return { result, checkpoint, trainerOps: checkpoint === null ? (episode.trainer_ops ?? []) : [], epochs, seconds };
  }

  /** The step on a RecordingTrainer: its trainer calls join the pending ones, the checkpoint stays (a misrouted training call throws). */
  private async record({ episode, call }: PlannedStep): Promise<TrainedStep> {
    if (needsTrainingData(episode.record, call)) {
      // Routed before another step changed the episode (a configuration committed meanwhile): nothing ran.
      throw new EpisodeServiceError('conflict', `Episode ${episode.episode_id} changed while this step was routed; nothing ran. Send it again.`, {
        episode_id: episode.episode_id,
        version: episode.version,
      });
    }
    const recorder = new RecordingTrainer(episode.trainer_ops ?? []);
    const result = await executeStep(episode.record, call, recorder);
    return { result, checkpoint: null, trainerOps: recorder.pending, epochs: 0, seconds: 0 };
  }

  /** The episode's trainer, restored from its checkpoint (or created) on first use, with the pending trainer calls replayed on it. */
  private lazyTrainer(episode: StoredEpisode, trainers: TrainerFactory): LazyTrainer {
    const spec = { taskId: episode.record.task_id, seed: episode.record.seed };
    return new LazyTrainer({
      build: async () => {
        const trainer = episode.checkpoint === null ? await trainers.create(spec) : await trainers.restore(spec, await this.loadAvailableCheckpoint(episode));
        try {
          // Stryker disable next-line ArrayDeclaration: replayTrainerOperations skips an entry that is no known operation, so any placeholder list replays nothing
          await replayTrainerOperations(trainer, episode.trainer_ops ?? []);
        } catch (error) {
          trainer.dispose();
          throw error;
        }
        return trainer;
      },
    });
  }

  /**
   * The checkpoint, or the core's checkpoint_unavailable error when it is missing or does
   * not match its pointer: the call is then answered as a tool error (a step like any
   * other), so the episode can still be read and submitted instead of failing every call.
   */
  private async loadAvailableCheckpoint(episode: StoredEpisode): Promise<Uint8Array> {
    try {
      return await this.loadCheckpoint(episode);
    } catch (error) {
      if (!isStorageError(error, 'integrity')) throw error;
      const logError = this.options.logger.error?.bind(this.options.logger) ?? console.error;
      logError('Checkpoint unavailable: training tools answer checkpoint_unavailable', {
        tenant: episode.tenant,
        episode_id: episode.episode_id,
        version: episode.version,
        key: episode.checkpoint!.key,
        reason: error.message,
      });
      throw checkpointUnavailable(episode.episode_id, error.message);
    }
  }

  /**
   * The checkpoint the item read points to. A competing step that commits between our
   * read of the item and this fetch deletes it as superseded: a missing object on an
   * episode that has moved on is a conflict, not corruption.
   */
  private async loadCheckpoint(current: StoredEpisode): Promise<Uint8Array> {
    try {
      return await this.options.checkpoints.getCheckpoint(current.checkpoint!);
    } catch (error) {
      if (!isStorageError(error, 'integrity')) throw error;
      const latest = await this.options.episodes.get(current.tenant, current.episode_id);
      if (latest === null) throw notFound(current.episode_id);
      if (latest.version !== current.version) {
        throw new EpisodeServiceError(
          'conflict',
          `Episode ${current.episode_id} changed while this step started (read at version ${current.version}, now at ${latest.version}); ` +
            'nothing was committed. Read the episode again and retry.',
          { expected_version: current.version, current_version: latest.version },
        );
      }
      throw error;
    }
  }

  /**
   * The commit failed. A conditional failure may still be our own write (the SDK retries a
   * request whose response was lost), and other errors leave the outcome unknown: the item
   * read back tells, by its commit id. Committed: the step succeeded. Not committed: the
   * uploaded checkpoint is deleted and the error reported (a conflict, or a replay when the
   * winner was the same request).
   */
  private async afterFailedCommit(
    error: unknown,
    context: { planned: PlannedStep; prepared: PreparedEpisode; uploaded: string | null; view: StepView },
  ): Promise<StepView> {
    const { planned, prepared, uploaded } = context;
    const current = planned.episode;
    let latest: StoredEpisode | null;
    try {
      latest = await this.options.episodes.get(current.tenant, current.episode_id);
    } catch {
      // Unknown outcome: keep the upload (the sweep removes it if it is an orphan).
      throw error;
    }
    if (latest !== null && latest.commit_id === prepared.episode.commit_id) {
      if (uploaded !== null && current.checkpoint !== null) await this.deleteQuietly(current.checkpoint.key, 'superseded checkpoint');
      return context.view;
    }
    if (uploaded !== null) await this.deleteQuietly(uploaded, 'checkpoint of a step that did not commit');
    if (!isStorageError(error, 'conflict')) throw error;
    if (latest === null) throw notFound(current.episode_id);
    const replay = replayOf(latest, planned.requestId, planned.callHash, planned.call);
    if (replay) return replay;
    throw new EpisodeServiceError(
      'conflict',
      `Episode ${current.episode_id} changed while this step ran (read at version ${current.version}, now at ${latest.version}); ` +
        'nothing was committed. Read the episode again and retry.',
      { expected_version: current.version, current_version: latest.version },
    );
  }

  private async deleteQuietly(key: string, what: string): Promise<void> {
    try {
      await this.options.checkpoints.delete(key);
    } catch (error) {
      this.options.logger.warn(`Could not delete the ${what}; sweepCheckpoints removes it later`, { key, error: String(error) });
    }
  }
}
