import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import { createStorageClients, ENDED_INDEX_SHARDS, EpisodeStore, type EndedEpisodeRef, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { testRuntime } from './helpers';

/**
 * The batch run's listing of ended episodes (listEnded: pages of endedEpisodes' order with a
 * cursor) and what each ended episode reads as, on embedded DynamoDB.
 */

const NOW = '2030-03-10T00:00:00.000Z';
const MARCH_1 = new Date('2030-03-01T00:00:00.000Z');
const MARCH_2 = new Date('2030-03-02T00:00:00.000Z');
const MARCH_3 = new Date('2030-03-03T00:00:00.000Z');
/** tenant-a's episodes ended on March 2nd, one an hour from 01:00 to 06:00. */
const HOURLY = [1, 2, 3, 4, 5, 6].map((h) => ({ id: `ep-${h}`, at: `2030-03-02T0${h}:00:00.000Z` }));

function ended(tenant: string, id: string, at: string): StoredEpisode {
  const record = createEpisode('easy_mnist');
  record.status = 'submitted';
  record.grade = { score: 0.5, details: {} };
  return {
    tenant,
    episode_id: id,
    version: 0,
    created_at: '2030-03-01T00:00:00.000Z',
    updated_at: at,
    record,
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: `c-${id}`,
    ended_at: at,
  };
}

/** A store on its own client whose Queries (input and output) are recorded. */
function observedStore(runtime: LocalRuntime) {
  const clients = createStorageClients(runtime.config);
  const queries: { input: { Limit?: number; ExpressionAttributeValues?: Record<string, unknown> }; items: Record<string, unknown>[] }[] = [];
  clients.documents.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      queries.push({ input: args.input as never, items: ((result.output as { Items?: Record<string, unknown>[] }).Items ?? []) });
      return result;
    },
    { step: 'initialize' },
  );
  const store = new EpisodeStore(clients.documents, { tableName: runtime.config.tableName, retentionSeconds: runtime.config.retentionSeconds, clock: () => new Date(NOW) });
  return { store, queries, close: () => clients.dynamodb.destroy() };
}

const ids = (page: { items: EndedEpisodeRef[] }) => page.items.map((r) => r.episode_id);

describe('EpisodeStore.listEnded', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
    for (const { id, at } of HOURLY) await store.insert(store.prepare(ended('tenant-a', id, at)));
    // Ended after the store's clock reads now.
    await store.insert(store.prepare(ended('tenant-a', 'ep-later', '2030-03-11T00:00:00.000Z')));
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('lists up to now by the store clock when no until is given, and up to until when it is', async () => {
    expect(ids(await store.listEnded(MARCH_1))).toEqual(HOURLY.map((e) => e.id));
    expect(ids(await store.listEnded(MARCH_1, { until: new Date('2030-03-02T03:00:00.000Z') }))).toEqual(['ep-1', 'ep-2']);
  });

  it('takes a cursor from before since as a position only: the window still starts at since', async () => {
    const first = await store.listEnded(MARCH_2, { until: MARCH_3, limit: 1 });
    expect(ids(first)).toEqual(['ep-1']);
    const later = await store.listEnded(new Date('2030-03-02T03:30:00.000Z'), { until: MARCH_3, cursor: first.cursor });
    expect(ids(later)).toEqual(['ep-4', 'ep-5', 'ep-6']);
    expect(later.cursor).toBeNull();
  });

  it('reads a later page from its cursor on, not the episodes of the pages before it again', async () => {
    const first = await store.listEnded(MARCH_2, { until: MARCH_3, limit: 3 });
    expect(ids(first)).toEqual(['ep-1', 'ep-2', 'ep-3']);
    const observed = observedStore(runtime);
    try {
      const second = await observed.store.listEnded(MARCH_2, { until: MARCH_3, limit: 3, cursor: first.cursor });
      expect(ids(second)).toEqual(['ep-4', 'ep-5', 'ep-6']);
      const read = observed.queries.flatMap((q) => q.items.map((item) => String(item.ended_at)));
      expect(read.length).toBeGreaterThan(0);
      expect(read.filter((at) => at < HOURLY[2]!.at)).toEqual([]);
    } finally {
      observed.close();
    }
  });

  it('reads each end-time stream in Query pages of one row more than the page asks, at most 100', async () => {
    const observed = observedStore(runtime);
    try {
      for (const [limit, pageSize] of [
        [1, 2],
        [4, 5],
        [99, 100],
        [500, 100],
      ] as const) {
        observed.queries.length = 0;
        await observed.store.listEnded(MARCH_2, { until: MARCH_3, limit });
        expect(observed.queries.length).toBeGreaterThan(0);
        expect(new Set(observed.queries.map((q) => q.input.Limit))).toEqual(new Set([pageSize]));
      }
    } finally {
      observed.close();
    }
  });

  it('queries only the days the window touches: a window ending at midnight reads none of the next day', async () => {
    const observed = observedStore(runtime);
    try {
      await observed.store.countEnded(MARCH_2, MARCH_3);
      const days = observed.queries.map((q) => String(q.input.ExpressionAttributeValues?.[':day']));
      expect(days).toHaveLength(ENDED_INDEX_SHARDS + 1);
      expect(days.every((day) => day.startsWith('2030-03-02'))).toBe(true);
    } finally {
      observed.close();
    }
  });

  it('refuses a cursor it did not hand out, saying so', async () => {
    const foreign = Buffer.from(JSON.stringify({ t: 'tenant-a', c: '2030-03-01T00:00:00.000Z', p: 'episode#tenant-a#ep-1' })).toString('base64url');
    await expect(store.listEnded(MARCH_1, { cursor: foreign })).rejects.toMatchObject({
      name: 'StorageError',
      code: 'invalid_cursor',
      message: 'The cursor does not belong to this listing.',
    });
  });
});

describe('an ended episode as the end-time index reads it', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;
  const day = (at: string) => ({ since: new Date(at), until: new Date(Date.parse(at) + 1) });

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('carries its score, and no auto_submitted_by field unless a batch run auto-submitted it', async () => {
    const at = '2030-03-04T01:00:00.000Z';
    await store.insert(store.prepare(ended('tenant-a', 'ep-scored', at)));
    const { since, until } = day(at);
    const { items } = await store.listEnded(since, { until });
    expect(items).toEqual([{ tenant: 'tenant-a', episode_id: 'ep-scored', task_id: 'easy_mnist', ended_at: at, score: 0.5 }]);
    expect(Object.keys(items[0]!)).not.toContain('auto_submitted_by');

    expect(await store.noteIfAtVersion('tenant-a', 'ep-scored', 0, { auto_submitted_by: 'run-7' })).toBe(true);
    expect((await store.listEnded(since, { until })).items).toEqual([
      { tenant: 'tenant-a', episode_id: 'ep-scored', task_id: 'easy_mnist', ended_at: at, score: 0.5, auto_submitted_by: 'run-7' },
    ]);
  });

  it('reads a score the item does not carry as null', async () => {
    const at = '2030-03-04T02:00:00.000Z';
    const { score: _score, ...item } = store.prepare(ended('tenant-a', 'ep-unscored', at)).item;
    await runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: item }));
    const { since, until } = day(at);
    const { items } = await store.listEnded(since, { until });
    expect(items).toHaveLength(1);
    expect(items[0]!.score).toBeNull();
  });
});
