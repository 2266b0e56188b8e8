import { isValidId, type EpisodeStore, type StoredEpisode } from '../../storage/src';
import { EpisodeServiceError, type TenantId } from './episode-service';

/** What reading an episode needs: the store's read, nothing that writes. */
export type EpisodeReader = Pick<EpisodeStore, 'get'>;

export function requireTenant(tenant: unknown): asserts tenant is TenantId {
  if (!isValidId(tenant)) {
    throw new EpisodeServiceError('invalid_request', `Invalid tenant id ${JSON.stringify(tenant)}.`, { field: 'tenant' });
  }
}

export function notFound(episodeId: unknown): EpisodeServiceError {
  return new EpisodeServiceError('not_found', `No episode ${JSON.stringify(episodeId)}.`, { episode_id: episodeId });
}

export function stepNotFound(episodeId: string, stepId: string): EpisodeServiceError {
  return new EpisodeServiceError('not_found', `No step ${JSON.stringify(stepId)} on episode ${JSON.stringify(episodeId)}.`, {
    episode_id: episodeId,
    step_id: stepId,
  });
}

/** The tenant's episode (strongly consistent), or not_found. */
export async function loadEpisode(episodes: EpisodeReader, tenant: TenantId, episodeId: string): Promise<StoredEpisode> {
  requireTenant(tenant);
  const episode = typeof episodeId === 'string' ? await episodes.get(tenant, episodeId) : null;
  if (episode === null) throw notFound(episodeId);
  return episode;
}
