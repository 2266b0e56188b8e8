import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storedEpisode } from './helpers';
import { EpisodeStore, type StoredEpisode } from '../../layers/storage/src';

/**
 * A write that DynamoDB refuses for a reason other than its condition (throttling, a network
 * failure, permissions) is not a lost race: the error reaches the caller unchanged, never
 * turned into a conflict, a "not done" answer, or a lease refusal.
 */
class Throttled extends Error {
  override readonly name = 'ProvisionedThroughputExceededException';
}

const TENANT = 'tenant-a';
const ID = 'ep-1';

// Writes fail with a throttling error; reads see the episode at version 0 without a lease.
const throttledWrites = {
  send: async (command: unknown) => {
    if (command instanceof GetCommand) {
      return { Item: { tenant: TENANT, episode_id: ID, version: 0, expires_at: 4_102_444_800 } };
    }
    throw new Throttled('Rate of requests exceeds the allowed throughput.');
  },
} as unknown as DynamoDBDocumentClient;

const store = new EpisodeStore(throttledWrites, { tableName: 'episodes', retentionSeconds: 3600, clock: () => new Date('2030-01-02T03:04:05.000Z') });

const episode: StoredEpisode = storedEpisode(TENANT, ID, { version: 1, commit_id: 'c-1' });

it('insert propagates it', async () => {
  await expect(store.insert(store.prepare(episode))).rejects.toBeInstanceOf(Throttled);
});

it('commit propagates it, with or without the lease condition', async () => {
  await expect(store.commit(store.prepare(episode), 0)).rejects.toBeInstanceOf(Throttled);
  await expect(store.commit(store.prepare(episode), 0, { unleased: true })).rejects.toBeInstanceOf(Throttled);
});

it('noteIfAtVersion propagates it', async () => {
  await expect(store.noteIfAtVersion(TENANT, ID, 0, { auto_submitted_by: 'run-1' })).rejects.toBeInstanceOf(Throttled);
});

it('acquireLease propagates it rather than reporting the lease refused', async () => {
  await expect(store.acquireLease(TENANT, ID, 0, { holder: 'h', request_id: null, call_sha256: 'a'.repeat(64) }, 60_000)).rejects.toBeInstanceOf(Throttled);
});

it('releaseLease and renewLease propagate it', async () => {
  await expect(store.releaseLease(TENANT, ID, 'h')).rejects.toBeInstanceOf(Throttled);
  await expect(store.renewLease(TENANT, ID, 'h', 60_000)).rejects.toBeInstanceOf(Throttled);
});
