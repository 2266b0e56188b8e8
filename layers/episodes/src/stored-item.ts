import { isStorageError, isValidId, type EpisodeStore, type PreparedEpisode, type StoredEpisode } from '../../storage/src';
import { EpisodeServiceError } from './episode-service';

/** The item built and size-checked: an item over DynamoDB's limit is refused before anything is written. */
export function prepareEpisode(episodes: Pick<EpisodeStore, 'prepare'>, episode: StoredEpisode): PreparedEpisode {
  try {
    return episodes.prepare(episode);
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

/** A new id (episode or write attempt) that the store accepts. */
export function storableId(newId: () => string): string {
  const id = newId();
  if (!isValidId(id)) throw new Error(`newId produced an id that cannot be stored: ${JSON.stringify(id)}`);
  return id;
}
