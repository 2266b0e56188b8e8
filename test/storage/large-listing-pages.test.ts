import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import { createStorageClients, ENDED_INDEX_SHARDS, EpisodeStore, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { testRuntime } from './helpers';

/**
 * Listings whose Query answer exceeds DynamoDB's 1 MB page: they read on past it, and a
 * listing with a limit stops reading once it holds enough (embedded DynamoDB, which pages at
 * 1 MB as DynamoDB does). Four episodes carry a ~350 KB projected attribute, so a page holds three.
 */

const NOW = '2030-03-10T00:00:00.000Z';
const BULK = 'x'.repeat(350_000);
const IDS = ['big-1', 'big-2', 'big-3', 'big-4'];
const ENDED_AT = (n: number) => `2030-03-02T0${n}:00:00.000Z`;

function episode(id: string, n: number, ended: boolean): StoredEpisode {
  const record = createEpisode('easy_mnist');
  if (ended) record.status = 'submitted';
  return {
    tenant: ended ? 'tenant-ended' : 'tenant-big',
    episode_id: id,
    version: 0,
    created_at: `2030-03-01T0${n}:00:00.000Z`,
    updated_at: ended ? ENDED_AT(n) : `2030-03-01T0${n}:00:00.000Z`,
    record,
    checkpoint: null,
    usage: { steps: n, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: `c-${id}`,
    ended_at: ended ? ENDED_AT(n) : null,
  };
}

describe('listings past a 1 MB Query page', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;
  let observed: EpisodeStore;
  let queries = 0;
  let closeObserved: () => void;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
    const put = (item: Record<string, unknown>) => runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: item }));
    for (const [i, id] of IDS.entries()) {
      // The usage map is projected on the by-tenant index.
      const active = store.prepare(episode(id, i + 1, false)).item;
      await put({ ...active, usage: { ...(active.usage as object), bulk: BULK } });
      // auto_submitted_by is projected on the end-time index; the bare day (an item from before
      // the shards) puts all four in one partition value.
      const ended = store.prepare(episode(id, i + 1, true)).item;
      await put({ ...ended, ended_day: '2030-03-02', auto_submitted_by: BULK });
    }
    const clients = createStorageClients(runtime.config);
    clients.documents.middlewareStack.add(
      (next) => async (args) => {
        queries += 1;
        return next(args);
      },
      { step: 'initialize' },
    );
    observed = new EpisodeStore(clients.documents, { tableName: runtime.config.tableName, retentionSeconds: runtime.config.retentionSeconds, clock: () => new Date(NOW) });
    closeObserved = () => clients.dynamodb.destroy();
  });
  afterAll(async () => {
    closeObserved?.();
    await runtime?.close();
  });
  beforeEach(() => {
    queries = 0;
  });

  it('listUsage reads every page', async () => {
    const rows = await observed.listUsage('tenant-big', new Date('2030-03-01T00:00:00.000Z'), new Date('2030-03-02T00:00:00.000Z'));
    expect(rows.map((r) => r.episode_id)).toEqual(IDS);
    expect(queries).toBe(2);
  }, 10_000);

  it('listIdleActive reads on until it holds limit episodes, and no further', async () => {
    const idleSince = new Date('2030-03-05T00:00:00.000Z');
    expect((await observed.listIdleActive('tenant-big', idleSince)).map((s) => s.episode_id)).toEqual(IDS);
    expect(queries).toBe(2);
    queries = 0;
    expect((await observed.listIdleActive('tenant-big', idleSince, { limit: 4 })).map((s) => s.episode_id)).toEqual(IDS);
    expect(queries).toBe(2);
    queries = 0;
    expect((await observed.listIdleActive('tenant-big', idleSince, { limit: 3 })).map((s) => s.episode_id)).toEqual(IDS.slice(0, 3));
    expect(queries).toBe(1);
  }, 10_000);

  it('countEnded counts every page of a partition value', async () => {
    expect(await observed.countEnded(new Date('2030-03-02T00:00:00.000Z'), new Date('2030-03-03T00:00:00.000Z'))).toBe(4);
    // One Query per shard, and two for the bare day's value.
    expect(queries).toBe(ENDED_INDEX_SHARDS + 2);
  }, 10_000);
});
