import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import { EpisodeStore, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { countingEpisodeStore, testRuntime } from './helpers';

/** A tenant's usage report (listUsage): episodes created in [from, to), oldest first, with their usage (embedded DynamoDB). */

const NOW = '2030-05-10T00:00:00.000Z';
const FROM = new Date('2030-05-02T00:00:00.000Z');
const TO = new Date('2030-05-03T00:00:00.000Z');

function episode(id: string, createdAt: string, steps: number): StoredEpisode {
  return {
    tenant: 'tenant-a',
    episode_id: id,
    version: steps,
    created_at: createdAt,
    updated_at: createdAt,
    record: createEpisode('easy_mnist'),
    checkpoint: null,
    usage: { steps, epochs_trained: 2 * steps, training_seconds: 3 * steps },
    results: {},
    commit_id: `c-${id}`,
    ended_at: null,
  };
}

describe('EpisodeStore.listUsage', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
    // Written newest first, so that the order read back is the index's, not the writes'.
    for (const [id, at, steps] of [
      ['at-to', '2030-05-03T00:00:00.000Z', 9],
      ['last', '2030-05-02T23:59:59.999Z', 3],
      ['middle', '2030-05-02T12:00:00.000Z', 2],
      ['at-from', '2030-05-02T00:00:00.000Z', 1],
      ['before-from', '2030-05-01T23:59:59.999Z', 8],
    ] as const) {
      await store.insert(store.prepare(episode(id, at, steps)));
    }
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('lists the episodes created in [from, to), to the millisecond, oldest first, with their usage', async () => {
    const rows = await store.listUsage('tenant-a', FROM, TO);
    expect(rows.map((r) => r.episode_id)).toEqual(['at-from', 'middle', 'last']);
    expect(rows[2]).toEqual({
      tenant: 'tenant-a',
      episode_id: 'last',
      task_id: 'easy_mnist',
      status: 'active',
      created_at: '2030-05-02T23:59:59.999Z',
      updated_at: '2030-05-02T23:59:59.999Z',
      usage: { steps: 3, epochs_trained: 6, training_seconds: 9 },
    });
  });

  it('reads an episode item without a usage attribute as no use at all', async () => {
    const { usage: _usage, ...item } = store.prepare(episode('no-usage', '2030-05-02T06:00:00.000Z', 4)).item;
    await runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: item }));
    const rows = await store.listUsage('tenant-a', new Date('2030-05-02T06:00:00.000Z'), new Date('2030-05-02T06:00:00.001Z'));
    expect(rows).toEqual([expect.objectContaining({ episode_id: 'no-usage', usage: { steps: 0, epochs_trained: 0, training_seconds: 0 } })]);
  });

  it('lists nothing for an empty or reversed window, or an invalid tenant id, without asking the table', async () => {
    const observed = countingEpisodeStore(runtime, NOW);
    try {
      await expect(observed.store.listUsage('tenant-a', FROM, FROM)).resolves.toEqual([]);
      await expect(observed.store.listUsage('tenant-a', TO, FROM)).resolves.toEqual([]);
      await expect(observed.store.listUsage('', FROM, TO)).resolves.toEqual([]);
      await expect(observed.store.listUsage('tenant#a', FROM, TO)).resolves.toEqual([]);
      expect(observed.requests()).toBe(0);
      await expect(observed.store.listUsage('tenant-a', new Date(TO.getTime() - 1), TO)).resolves.toMatchObject([{ episode_id: 'last' }]);
      expect(observed.requests()).toBe(1);
    } finally {
      observed.close();
    }
  });
});
