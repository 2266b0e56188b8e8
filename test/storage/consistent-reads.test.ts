import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EpisodeStore } from '../../layers/storage/src';

/**
 * The reads a step decides on are strongly consistent: an eventually consistent read could
 * miss a lease or a commit made just before it. dynalite is always consistent, so what is
 * pinned here is what the store asks DynamoDB for.
 */
function recordingStore() {
  const consistentReads: (boolean | undefined)[] = [];
  const documents = {
    send: async (command: unknown) => {
      if (!(command instanceof GetCommand)) throw new Error('only reads expected');
      consistentReads.push(command.input.ConsistentRead);
      return {};
    },
  } as unknown as DynamoDBDocumentClient;
  return { store: new EpisodeStore(documents, { tableName: 'episodes', retentionSeconds: 3600 }), consistentReads };
}

it.each([
  ['readLease', (store: EpisodeStore) => store.readLease('tenant-a', 'ep-1')],
  ['get', (store: EpisodeStore) => store.get('tenant-a', 'ep-1')],
  ['getWithNotes', (store: EpisodeStore) => store.getWithNotes('tenant-a', 'ep-1')],
  ['getWithLease', (store: EpisodeStore) => store.getWithLease('tenant-a', 'ep-1')],
])('%s reads strongly consistently', async (_name, read) => {
  const { store, consistentReads } = recordingStore();
  expect(await read(store)).toBeNull();
  expect(consistentReads).toEqual([true]);
});

it('get reads eventually consistently only when asked to', async () => {
  const { store, consistentReads } = recordingStore();
  await store.get('tenant-a', 'ep-1', { consistent: false });
  expect(consistentReads).toEqual([false]);
});
