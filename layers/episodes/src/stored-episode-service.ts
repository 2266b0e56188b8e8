import { createHash, randomUUID } from 'node:crypto';
import {
  CoreError,
  createEpisode,
  executeStep,
  type EpochProgress,
  type StepResult,
  type ToolCall,
  type Trainer,
  type TrainerFactory,
} from '../../core/src';
import {
  checkpointKey,
  checkpointPrefix,
  isStorageError,
  isValidId,
  type BlobStore,
  type CheckpointPointer,
  type EpisodeStore,
  type PreparedEpisode,
  type StoredEpisode,
  storedEpisodeSummary,
} from '../../storage/src';
import {
  EpisodeServiceError,
  stepView,
  type EpisodeService,
  type EpisodeSummary,
  type EpisodeView,
  type StepRequest,
  type StepView,
  type TenantId,
} from './episode-service';

export interface StoredEpisodeServiceOptions {
  episodes: EpisodeStore;
  /** The checkpoint bucket. */
  checkpoints: BlobStore;
  trainers: TrainerFactory;
  /** Timestamps (created_at, updated_at, ended_at, expiry). */
  clock?: () => Date;
  /** Episode ids and write-attempt ids (default: random UUIDs). Must match [A-Za-z0-9][A-Za-z0-9._:@=+-]{0,127}. */
  newId?: () => string;
  /** Best-effort clean-ups that failed (an orphaned checkpoint stays until sweepCheckpoints). Default: console.warn. */
  warn?: (message: string, details: Record<string, unknown>) => void;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@=+-]{0,127}$/;
export const DEFAULT_SWEEP_MIN_AGE_SECONDS = 3600;

/** JSON with object keys sorted at every level: equal calls hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A call's identity for request_id reuse: the tool and its arguments (absent arguments are {} as the core reads them). */
export function callSha256(call: ToolCall): string {
  const args = call.arguments === undefined || call.arguments === null ? {} : call.arguments;
  return createHash('sha256').update(canonicalJson({ tool: call.tool, arguments: args })).digest('hex');
}

/** Calls on an ended episode never touch the trainer; this one proves it. */
const UNUSED_TRAINER: Trainer = new Proxy({} as Trainer, {
  get(_target, property) {
    return () => {
      throw new Error(`The trainer is not used after the episode ended (called ${String(property)}).`);
    };
  },
});

function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/**
 * The EpisodeService over DynamoDB (EpisodeStore) and S3 (BlobStore). One step:
 *
 *  1. read the episode item (strongly consistent), scoped to the tenant;
 *  2. a request_id already stored on the item returns its stored result (no training);
 *  3. fetch the checkpoint and verify its SHA-256, restore the trainer (a fresh one before
 *     the first step);
 *  4. run the call through the core's executeStep, save the trainer's checkpoint, dispose
 *     the trainer (a trainer fault propagates here with nothing written);
 *  5. build the new item and check its size (refused before anything is written);
 *  6. upload the new checkpoint under a new key (skipped when the bytes are unchanged);
 *  7. conditionally replace the item on the version read in 1, with the record, usage,
 *     checkpoint pointer and the step's stored result in the same single-item write;
 *  8. after the commit, delete the superseded checkpoint. A writer that lost in 7 deletes
 *     its own upload and reports a conflict.
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
export class StoredEpisodeService implements EpisodeService {
  private readonly episodes: EpisodeStore;
  private readonly checkpoints: BlobStore;
  private readonly trainers: TrainerFactory;
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly warn: (message: string, details: Record<string, unknown>) => void;

  constructor(options: StoredEpisodeServiceOptions) {
    this.episodes = options.episodes;
    this.checkpoints = options.checkpoints;
    this.trainers = options.trainers;
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
    this.warn = options.warn ?? ((message, details) => console.warn(message, details));
  }

  async createEpisode(input: { tenant: TenantId; taskId: string; seed?: number }): Promise<EpisodeView> {
    requireTenant(input.tenant);
    let record;
    try {
      record = createEpisode(input.taskId, input.seed);
    } catch (error) {
      if (error instanceof CoreError) throw new EpisodeServiceError('invalid_request', error.message, { ...error.toInfo() });
      throw error;
    }
    const now = this.clock().toISOString();
    const episode: StoredEpisode = {
      tenant: input.tenant,
      episode_id: this.id(),
      version: 0,
      created_at: now,
      updated_at: now,
      record,
      checkpoint: null,
      usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
      results: {},
      commit_id: this.id(),
      ended_at: null,
    };
    try {
      await this.episodes.insert(this.prepare(episode));
    } catch (error) {
      if (isStorageError(error, 'conflict')) throw new EpisodeServiceError('conflict', error.message);
      throw error;
    }
    return episodeView(episode);
  }

  async getEpisode(tenant: TenantId, episodeId: string): Promise<EpisodeView> {
    return episodeView(await this.load(tenant, episodeId));
  }

  async listEpisodes(
    tenant: TenantId,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: EpisodeSummary[]; cursor: string | null }> {
    requireTenant(tenant);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 100)) {
      throw new EpisodeServiceError('invalid_request', `limit must be an integer from 1 to 100, got ${options.limit}.`, { field: 'limit' });
    }
    try {
      return await this.episodes.listByTenant(tenant, { limit: options.limit ?? 20, cursor: options.cursor ?? null });
    } catch (error) {
      if (isStorageError(error, 'invalid_cursor')) throw new EpisodeServiceError('invalid_request', error.message, { field: 'cursor' });
      throw error;
    }
  }

  async step(request: StepRequest): Promise<StepView> {
    const { tenant, episodeId, call, requestId } = request;
    requireTenant(tenant);
    if (requestId !== undefined && (typeof requestId !== 'string' || !REQUEST_ID_PATTERN.test(requestId))) {
      throw new EpisodeServiceError(
        'invalid_request',
        'request_id must be 1 to 128 characters: letters, digits and . _ : @ = + - (not starting with a symbol).',
        { field: 'request_id' },
      );
    }
    if (call === null || typeof call !== 'object' || Array.isArray(call)) {
      throw new EpisodeServiceError('invalid_request', 'A step needs a call: {"tool": <name>, "arguments": {...}}.', { field: 'call' });
    }
    const callHash = callSha256(call);
    const current = await this.load(tenant, episodeId);
    const replay = replayOf(current, requestId, callHash, call);
    if (replay) return replay;

    if (current.record.status !== 'active') {
      // Not a step: the core answers episode_over and nothing changes (nothing is stored either).
      const result = await executeStep(current.record, call, UNUSED_TRAINER);
      return stepView(current.episode_id, current.version, result);
    }

    const executed = await this.execute(current, call, request.onEpoch);
    const now = this.clock().toISOString();
    const commitId = this.id();
    const version = current.version + 1;
    const view = stepView(current.episode_id, version, executed.result);
    const unchanged =
      current.checkpoint !== null && current.checkpoint.sha256 === executed.sha256 && current.checkpoint.size === executed.bytes.byteLength;
    const pointer: CheckpointPointer = unchanged
      ? current.checkpoint!
      : { key: checkpointKey(tenant, episodeId, executed.sha256, commitId), sha256: executed.sha256, size: executed.bytes.byteLength };
    const next: StoredEpisode = {
      ...current,
      version,
      updated_at: now,
      record: executed.result.record,
      checkpoint: pointer,
      usage: {
        steps: current.usage.steps + 1,
        epochs_trained: current.usage.epochs_trained + executed.epochs,
        training_seconds: roundSeconds(current.usage.training_seconds + executed.seconds),
      },
      results:
        requestId === undefined
          ? current.results
          : { ...current.results, [requestId]: { call_sha256: callHash, version, view: JSON.stringify({ ...view, replayed: false }) } },
      commit_id: commitId,
      ended_at: executed.result.record.status !== 'active' ? now : null,
    };
    // Size check before anything is written.
    const prepared = this.prepare(next);

    if (!unchanged) {
      try {
        await this.checkpoints.putCheckpoint(pointer, executed.bytes);
      } catch (error) {
        // Nothing points at this key yet: whatever part of it reached the bucket can go.
        await this.deleteQuietly(pointer.key, 'checkpoint of a failed upload');
        throw error;
      }
    }
    try {
      await this.episodes.commit(prepared, current.version);
    } catch (error) {
      return this.afterFailedCommit(error, { current, prepared, uploaded: unchanged ? null : pointer.key, requestId, callHash, call, view });
    }
    if (!unchanged && current.checkpoint !== null) await this.deleteQuietly(current.checkpoint.key, 'superseded checkpoint');
    return view;
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
    const stale = listed
      .filter((o) => o.key !== keep && (minAgeMs <= 0 || (o.lastModified !== undefined && o.lastModified.getTime() <= cutoff)))
      .map((o) => o.key);
    if (stale.length > 0) await this.checkpoints.deleteMany(stale);
    return { deleted: stale };
  }

  private async execute(current: StoredEpisode, call: ToolCall, onEpoch: StepRequest['onEpoch']) {
    const spec = { taskId: current.record.task_id, seed: current.record.seed };
    const saved = current.checkpoint ? await this.loadCheckpoint(current) : null;
    const trainer = saved ? await this.trainers.restore(spec, saved) : await this.trainers.create(spec);
    let epochs = 0;
    let seconds = 0;
    let result: StepResult;
    let bytes: Uint8Array;
    try {
      result = await executeStep(current.record, call, trainer, {
        onEpoch: (progress: EpochProgress) => {
          epochs += 1;
          seconds += progress.seconds;
          try {
            onEpoch?.(progress);
          } catch {
            // A failing progress display must not fail the step.
          }
        },
      });
      bytes = await trainer.saveCheckpoint();
    } finally {
      try {
        trainer.dispose();
      } catch (error) {
        this.warn('Disposing the trainer failed', { error: String(error) });
      }
    }
    return { result, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), epochs, seconds };
  }

  /**
   * The checkpoint the item read points to. A competing step that commits between our
   * read of the item and this fetch deletes it as superseded: a missing object on an
   * episode that has moved on is a conflict, not corruption.
   */
  private async loadCheckpoint(current: StoredEpisode): Promise<Uint8Array> {
    try {
      return await this.checkpoints.getCheckpoint(current.checkpoint!);
    } catch (error) {
      if (!isStorageError(error, 'integrity')) throw error;
      const latest = await this.episodes.get(current.tenant, current.episode_id);
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
    context: {
      current: StoredEpisode;
      prepared: PreparedEpisode;
      uploaded: string | null;
      requestId: string | undefined;
      callHash: string;
      call: ToolCall;
      view: StepView;
    },
  ): Promise<StepView> {
    const { current, prepared, uploaded } = context;
    let latest: StoredEpisode | null;
    try {
      latest = await this.episodes.get(current.tenant, current.episode_id);
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
    const replay = replayOf(latest, context.requestId, context.callHash, context.call);
    if (replay) return replay;
    throw new EpisodeServiceError(
      'conflict',
      `Episode ${current.episode_id} changed while this step ran (read at version ${current.version}, now at ${latest.version}); ` +
        'nothing was committed. Read the episode again and retry.',
      { expected_version: current.version, current_version: latest.version },
    );
  }

  private prepare(episode: StoredEpisode): PreparedEpisode {
    try {
      return this.episodes.prepare(episode);
    } catch (error) {
      if (isStorageError(error, 'item_too_large')) {
        throw new EpisodeServiceError(
          'invalid_request',
          `${error.message} The step is not committed; a call with smaller arguments can be.`,
          { reason: 'item_too_large', ...error.details },
        );
      }
      throw error;
    }
  }

  private async load(tenant: TenantId, episodeId: string): Promise<StoredEpisode> {
    requireTenant(tenant);
    const episode = typeof episodeId === 'string' ? await this.episodes.get(tenant, episodeId) : null;
    if (episode === null) throw notFound(episodeId);
    return episode;
  }

  private id(): string {
    const id = this.newId();
    if (!isValidId(id)) throw new Error(`newId produced an id that cannot be stored: ${JSON.stringify(id)}`);
    return id;
  }

  private async deleteQuietly(key: string, what: string): Promise<void> {
    try {
      await this.checkpoints.delete(key);
    } catch (error) {
      this.warn(`Could not delete the ${what}; sweepCheckpoints removes it later`, { key, error: String(error) });
    }
  }
}

/** The service over a Storage (the local runtime, or createStorageFromEnv in a Lambda). */
export function createStoredEpisodeService(
  storage: { episodes: EpisodeStore; checkpoints: BlobStore },
  trainers: TrainerFactory,
  options: Omit<StoredEpisodeServiceOptions, 'episodes' | 'checkpoints' | 'trainers'> = {},
): StoredEpisodeService {
  return new StoredEpisodeService({ ...options, episodes: storage.episodes, checkpoints: storage.checkpoints, trainers });
}

function requireTenant(tenant: unknown): asserts tenant is string {
  if (!isValidId(tenant)) {
    throw new EpisodeServiceError('invalid_request', `Invalid tenant id ${JSON.stringify(tenant)}.`, { field: 'tenant' });
  }
}

function notFound(episodeId: unknown): EpisodeServiceError {
  return new EpisodeServiceError('not_found', `No episode ${JSON.stringify(episodeId)}.`, { episode_id: episodeId });
}

/** The stored result of this request_id, or null when it has none; the same id with another call is a conflict. */
function replayOf(episode: StoredEpisode, requestId: string | undefined, callHash: string, call: ToolCall): StepView | null {
  if (requestId === undefined) return null;
  const stored = episode.results[requestId];
  if (stored === undefined) return null;
  if (stored.call_sha256 !== callHash) {
    throw new EpisodeServiceError(
      'conflict',
      `request_id ${JSON.stringify(requestId)} was already used for a different call on this episode (step version ${stored.version}); ` +
        `a new call (here ${JSON.stringify(String(call.tool))}) needs a new request_id.`,
      { field: 'request_id', version: stored.version },
    );
  }
  return { ...(JSON.parse(stored.view) as StepView), replayed: true };
}

function episodeView(episode: StoredEpisode): EpisodeView {
  return { ...storedEpisodeSummary(episode), record: episode.record, usage: { ...episode.usage } };
}
