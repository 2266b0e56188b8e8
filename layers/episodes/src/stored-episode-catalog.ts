import { randomUUID } from 'node:crypto';
import { CoreError, createEpisode } from '../../core/src';
import { isStorageError, storedEpisodeSummary, type EpisodeStore, type StoredEpisode } from '../../storage/src';
import { loadEpisode, requireTenant } from './episode-lookup';
import { EpisodeServiceError, type CreateEpisodeInput, type EpisodeCatalog, type EpisodeSummary, type EpisodeView, type TenantId } from './episode-service';
import { prepareEpisode, storableId } from './stored-item';

export interface StoredEpisodeCatalogOptions {
  episodes: EpisodeStore;
  /** Timestamps (created_at, updated_at, ended_at, expiry). */
  clock?: () => Date;
  /** Episode ids and write-attempt ids (default: random UUIDs). Must be key-safe (KEY_SAFE_ID_PATTERN, layers/core). */
  newId?: () => string;
}

/** Episodes created, read and listed in DynamoDB (EpisodeStore): everything but steps, which need trainers. */
export class StoredEpisodeCatalog implements EpisodeCatalog {
  protected readonly episodes: EpisodeStore;
  protected readonly clock: () => Date;
  protected readonly newId: () => string;

  constructor(options: StoredEpisodeCatalogOptions) {
    this.episodes = options.episodes;
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  async createEpisode(input: CreateEpisodeInput): Promise<EpisodeView> {
    requireTenant(input.tenant);
    let record;
    try {
      record = createEpisode(input.taskId, input.seed, input.agent);
    } catch (error) {
      if (error instanceof CoreError) throw new EpisodeServiceError('invalid_request', error.message, { ...error.toInfo() });
      throw error;
    }
    const now = this.clock().toISOString();
    const episode: StoredEpisode = {
      tenant: input.tenant,
      episode_id: storableId(this.newId),
      version: 0,
      created_at: now,
      updated_at: now,
      record,
      checkpoint: null,
      usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
      results: {},
      commit_id: storableId(this.newId),
      ended_at: null,
    };
    try {
      await this.episodes.insert(prepareEpisode(this.episodes, episode));
    } catch (error) {
      if (isStorageError(error, 'conflict')) throw new EpisodeServiceError('conflict', error.message);
      throw error;
    }
    return episodeView(episode);
  }

  async getEpisode(tenant: TenantId, episodeId: string): Promise<EpisodeView> {
    return episodeView(await loadEpisode(this.episodes, tenant, episodeId));
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
}

function episodeView(episode: StoredEpisode): EpisodeView {
  return { ...storedEpisodeSummary(episode), record: episode.record, usage: { ...episode.usage } };
}
