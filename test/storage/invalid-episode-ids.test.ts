import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storedEpisode } from './helpers';
import { EpisodeStore, StorageError, type StoredEpisode } from '../../layers/storage/src';

/**
 * An id that is not key-safe names no episode: reads answer "absent" and writes "not done"
 * without a request to the table (the client here fails any request), and prepare refuses it.
 */
const noRequests = {
  send: async () => {
    throw new Error('no request expected for an invalid id');
  },
} as unknown as DynamoDBDocumentClient;

const store = new EpisodeStore(noRequests, { tableName: 'episodes', retentionSeconds: 3600 });

const claim = { holder: 'holder-1', request_id: null, call_sha256: 'a'.repeat(64) };

// One part invalid, the other valid: either alone makes the pair name no episode.
const INVALID_PAIRS: [what: string, tenant: string, episodeId: string][] = [
  ['an invalid tenant id', 'tenant#a', 'ep-1'],
  ['an invalid episode id', 'tenant-a', '../ep-1'],
];

describe.each(INVALID_PAIRS)('%s', (_what, tenant, episodeId) => {
  it('reads as absent', async () => {
    expect(await store.get(tenant, episodeId)).toBeNull();
    expect(await store.getWithNotes(tenant, episodeId)).toBeNull();
    expect(await store.readLease(tenant, episodeId)).toBeNull();
  });

  it('takes no note, lease, release or renewal', async () => {
    expect(await store.noteIfAtVersion(tenant, episodeId, 0, { auto_submitted_by: 'run-1' })).toBe(false);
    expect(await store.acquireLease(tenant, episodeId, 0, claim, 60_000)).toStrictEqual({ refused: null });
    expect(await store.releaseLease(tenant, episodeId, 'holder-1')).toBe(false);
    expect(await store.renewLease(tenant, episodeId, 'holder-1', 60_000)).toBeNull();
  });
});

describe('prepare', () => {
  const episode = (tenant: string, episodeId: string): StoredEpisode => storedEpisode(tenant, episodeId, { commit_id: 'c-1' });


  it('refuses an invalid tenant id, naming it', () => {
    const refuse = () => store.prepare(episode('tenant#a', 'ep-1'));
    expect(refuse).toThrow(StorageError);
    expect(refuse).toThrow(expect.objectContaining({ code: 'invalid_key', message: 'Invalid tenant id "tenant#a".' }));
  });

  it('refuses an invalid episode id, naming it', () => {
    const refuse = () => store.prepare(episode('tenant-a', '../ep-1'));
    expect(refuse).toThrow(StorageError);
    expect(refuse).toThrow(expect.objectContaining({ code: 'invalid_key', message: 'Invalid episode id "../ep-1".' }));
  });
});
