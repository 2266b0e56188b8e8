import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import {
  createStorageClients,
  ENDED_INDEX_SHARDS,
  endedIndexPartitionOf,
  endedIndexShard,
  EpisodeStore,
  type EndedEpisodeRef,
  type StoredEpisode,
} from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { mergeSortedPages, refineOrder } from '../../layers/storage/src/sorted-merge';
import { steppingClock, testRuntime } from './helpers';

/**
 * Issue 17 item 3 (no hot partition): the end-time GSI is written across ENDED_INDEX_SHARDS
 * partition values per day, and read back as one ordered stream (embedded DynamoDB).
 */

async function* pagesOf<T>(pages: T[][], pulled: { pages: number; closed: boolean }) {
  try {
    for (const page of pages) {
      pulled.pages += 1;
      yield page;
    }
  } finally {
    pulled.closed = true;
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const byNumber = (a: number, b: number) => a - b;

describe('mergeSortedPages and refineOrder', () => {
  it('merges ascending paginated streams into one ascending stream, empty pages and streams included', async () => {
    const logs = [0, 1, 2, 3].map(() => ({ pages: 0, closed: false }));
    const merged = mergeSortedPages(
      [pagesOf([[1, 4], [], [9, 12]], logs[0]!), pagesOf([[2, 3, 10]], logs[1]!), pagesOf<number>([], logs[2]!), pagesOf([[], [0], [4, 11]], logs[3]!)],
      byNumber,
    );
    expect(await collect(merged)).toEqual([0, 1, 2, 3, 4, 4, 9, 10, 11, 12]);
  });

  it('reads each stream one page at a time, and stops reading when the consumer stops', async () => {
    const a = { pages: 0, closed: false };
    const b = { pages: 0, closed: false };
    const merged = mergeSortedPages([pagesOf([[1, 2], [3, 4], [5, 6]], a), pagesOf([[10], [11]], b)], byNumber);
    expect((await merged.next()).value).toBe(1);
    expect([a.pages, b.pages]).toEqual([1, 1]);
    expect((await merged.next()).value).toBe(2);
    expect((await merged.next()).value).toBe(3);
    expect([a.pages, b.pages]).toEqual([2, 1]);
    await merged.return(undefined);
    expect([a.closed, b.closed]).toEqual([true, true]);
    expect(a.pages).toBe(2);
  });

  it('refines pages ordered by a key alone into full order, holding back a run that continues on the next page', async () => {
    type Row = { at: string; id: string };
    const full = (x: Row, y: Row) => (x.at + '\0' + x.id < y.at + '\0' + y.id ? -1 : x.at + '\0' + x.id > y.at + '\0' + y.id ? 1 : 0);
    const pages: Row[][] = [
      [{ at: '1', id: 'b' }, { at: '2', id: 'c' }],
      [{ at: '2', id: 'a' }],
      [{ at: '2', id: 'b' }, { at: '3', id: 'z' }, { at: '3', id: 'y' }],
    ];
    const refined = await collect(refineOrder(pagesOf(pages, { pages: 0, closed: false }), (r) => r.at, full));
    expect(refined).toEqual([[{ at: '1', id: 'b' }], [{ at: '2', id: 'a' }, { at: '2', id: 'b' }, { at: '2', id: 'c' }], [{ at: '3', id: 'y' }, { at: '3', id: 'z' }]]);
  });
});

describe('the shard of an ended episode', () => {
  it('has two digits, and spreads episodes over every shard', () => {
    expect(ENDED_INDEX_SHARDS).toBeGreaterThan(1);
    expect(ENDED_INDEX_SHARDS).toBeLessThanOrEqual(100);
    const counts = new Array<number>(ENDED_INDEX_SHARDS).fill(0);
    for (let n = 0; n < 100 * ENDED_INDEX_SHARDS; n += 1) counts[endedIndexShard(`tenant-${n % 7}`, `ep-${n}`)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(60);
    expect(Math.max(...counts)).toBeLessThan(140);
  });

  it('is a fixed function of tenant and episode id (rewrites of an episode keep its index entry on one shard)', () => {
    // Pinned (with 16 shards): the first 32 bits of SHA-256 of the partition key, modulo 16.
    // "episode#tenant-a#ep-1" -> 0x89358a1d, "episode#tenant-b#ep-1" -> 0x6f293864, "episode#tenant-a#ep-2" -> 0xf8cff92c.
    expect([endedIndexShard('tenant-a', 'ep-1'), endedIndexShard('tenant-b', 'ep-1'), endedIndexShard('tenant-a', 'ep-2')]).toEqual(
      [0x89358a1d, 0x6f293864, 0xf8cff92c].map((bits) => bits % ENDED_INDEX_SHARDS),
    );
    const tenants = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'];
    expect(new Set(tenants.map((t) => endedIndexShard(t, 'ep-1'))).size).toBeGreaterThan(1);
  });
});

const TENANTS = ['tenant-b', 'tenant-a', 'tenant-c'];
const DAY_START = (day: number) => Date.UTC(2030, 2, day);
const TIE_AT = '2030-03-02T12:00:00.000Z';
const LEGACY_AT = '2030-03-02T06:00:00.000Z';

/** The order endedEpisodes promises, computed independently: (ended_at, tenant, episode_id) as a tuple. */
function inExpectedOrder(refs: EndedEpisodeRef[]): EndedEpisodeRef[] {
  const key = (r: EndedEpisodeRef) => [r.ended_at, r.tenant, r.episode_id].join('\0');
  return [...refs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('the sharded end-time index on dynalite', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;
  const written: EndedEpisodeRef[] = [];

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

  async function insert(episode: StoredEpisode, item?: Record<string, unknown>): Promise<void> {
    if (item) await runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: item }));
    else await store.insert(store.prepare(episode));
    written.push({ tenant: episode.tenant, episode_id: episode.episode_id, task_id: 'easy_mnist', ended_at: episode.ended_at!, score: 0.5 });
  }

  /** Three tenant-b ids on one shard, so that their tie is within one partition value. */
  function sameShardIds(): string[] {
    const byShard = new Map<number, string[]>();
    for (let n = 0; ; n += 1) {
      const id = `ep-tie-${n}`;
      const ids = byShard.get(endedIndexShard('tenant-b', id)) ?? [];
      ids.push(id);
      byShard.set(endedIndexShard('tenant-b', id), ids);
      if (ids.length === 3) return ids;
    }
  }

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: steppingClock('2030-03-05T00:00:00.000Z', 0) } });
    store = runtime.episodes;
    // 12 on March 1st, 48 on the 2nd (three per shard on average: more than a page of 2), 12 on the 3rd.
    for (let n = 0; n < 72; n += 1) {
      const day = n < 12 ? 1 : n < 60 ? 2 : 3;
      const at = new Date(DAY_START(day) + ((n * 1_234_567_891) % 86_400_000)).toISOString();
      await insert(ended(TENANTS[n % 3]!, `ep-${n}`, at));
    }
    // Ties on ended_at, written out of order: across tenants, and within one shard.
    const [x, y, z] = sameShardIds();
    for (const [tenant, id] of [['tenant-c', 'ep-t0'], ['tenant-b', z!], ['tenant-a', 'ep-t9'], ['tenant-b', x!], ['tenant-a', 'ep-t10'], ['tenant-b', y!]] as const) {
      await insert(ended(tenant, id, TIE_AT));
    }
    // An item written before the shards: its ended_day is the bare day.
    const legacy = ended('tenant-a', 'ep-legacy', LEGACY_AT);
    await insert(legacy, { ...store.prepare(legacy).item, ended_day: '2030-03-02' });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('writes ended_day as <day>#NN, the episode shard, spread over many values', async () => {
    const output = await runtime.clients.documents.send(new ScanCommand({ TableName: runtime.config.tableName, FilterExpression: 'attribute_exists(ended_day)' }));
    const items = output.Items ?? [];
    expect(items).toHaveLength(written.length);
    for (const item of items.filter((i) => i.episode_id !== 'ep-legacy')) {
      expect(item.ended_day).toMatch(/^\d{4}-\d{2}-\d{2}#\d{2}$/);
      expect(item.ended_day).toBe(endedIndexPartitionOf(item.tenant, item.episode_id, item.ended_at));
    }
    const march2 = new Set(items.filter((i) => String(i.ended_day).startsWith('2030-03-02#')).map((i) => i.ended_day));
    expect(march2.size).toBeGreaterThanOrEqual(ENDED_INDEX_SHARDS / 2);
    // The data set has a shard holding more than one page of 2 on a day.
    const perPartition = new Map<string, number>();
    for (const item of items) perPartition.set(item.ended_day, (perPartition.get(item.ended_day) ?? 0) + 1);
    expect(Math.max(...perPartition.values())).toBeGreaterThan(2);
  });

  it('endedEpisodes yields every episode once, across shards, days and the legacy value, in (ended_at, tenant, episode_id) order', async () => {
    const since = new Date('2030-03-01T00:00:00.000Z');
    const until = new Date('2030-03-04T00:00:00.000Z');
    const expected = inExpectedOrder(written);
    expect(await collect(store.endedEpisodes(since, until, { pageSize: 2 }))).toEqual(expected);
    expect(await collect(store.endedEpisodes(since, until))).toEqual(expected);
    expect(expected.map((r) => r.episode_id)).toContain('ep-legacy');
    expect(await store.countEnded(since, until)).toBe(written.length);
  });

  it('orders ties on ended_at by tenant, then episode id (code-unit order)', async () => {
    const tie = new Date(TIE_AT);
    const refs = await collect(store.endedEpisodes(tie, new Date(tie.getTime() + 1), { pageSize: 1 }));
    const [x, y, z] = sameShardIds();
    expect(refs.map((r) => [r.tenant, r.episode_id])).toEqual([
      ['tenant-a', 'ep-t10'],
      ['tenant-a', 'ep-t9'],
      ...[x!, y!, z!].sort().map((id) => ['tenant-b', id]),
      ['tenant-c', 'ep-t0'],
    ]);
  });

  it('takes the window [since, until) exactly, to the millisecond, within a day and across midnight', async () => {
    for (const [id, at] of [
      ['ep-before', '2030-04-10T09:59:59.999Z'],
      ['ep-since', '2030-04-10T10:00:00.000Z'],
      ['ep-before-until', '2030-04-10T19:59:59.999Z'],
      ['ep-until', '2030-04-10T20:00:00.000Z'],
      ['ep-last', '2030-04-10T23:59:59.999Z'],
      ['ep-midnight', '2030-04-11T00:00:00.000Z'],
    ] as const) {
      await store.insert(store.prepare(ended('tenant-edge', id, at)));
    }
    const since = new Date('2030-04-10T10:00:00.000Z');
    const ids = async (until: string) => (await collect(store.endedEpisodes(since, new Date(until)))).map((r) => r.episode_id);
    expect(await ids('2030-04-10T20:00:00.000Z')).toEqual(['ep-since', 'ep-before-until']);
    expect(await store.countEnded(since, new Date('2030-04-10T20:00:00.000Z'))).toBe(2);
    expect(await ids('2030-04-11T00:00:00.000Z')).toEqual(['ep-since', 'ep-before-until', 'ep-until', 'ep-last']);
    expect(await ids('2030-04-11T00:00:00.001Z')).toEqual(['ep-since', 'ep-before-until', 'ep-until', 'ep-last', 'ep-midnight']);
    expect(await store.countEnded(since, new Date('2030-04-11T00:00:00.001Z'))).toBe(5);
    expect(await collect(store.endedEpisodes(since, since))).toEqual([]);
    expect(await store.countEnded(since, new Date('2030-04-10T09:00:00.000Z'))).toBe(0);
  });

  it('reads one page per partition value at a time: the first episode costs one Query of pageSize rows per shard and the legacy value', async () => {
    const clients = createStorageClients(runtime.config);
    const queries: { day: unknown; limit: unknown }[] = [];
    clients.documents.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { ExpressionAttributeValues?: Record<string, unknown>; Limit?: unknown };
        queries.push({ day: input.ExpressionAttributeValues?.[':day'], limit: input.Limit });
        return next(args);
      },
      { step: 'initialize' },
    );
    const observed = new EpisodeStore(clients.documents, { tableName: runtime.config.tableName, retentionSeconds: runtime.config.retentionSeconds, clock: () => new Date('2030-03-05T00:00:00.000Z') });
    const stream = observed.endedEpisodes(new Date('2030-03-02T00:00:00.000Z'), new Date('2030-03-03T00:00:00.000Z'), { pageSize: 2 });
    const first = await stream.next();
    expect(first.value).toEqual(inExpectedOrder(written.filter((r) => r.ended_at.startsWith('2030-03-02')))[0]);
    expect(queries).toHaveLength(ENDED_INDEX_SHARDS + 1);
    expect(new Set(queries.map((q) => q.day)).size).toBe(ENDED_INDEX_SHARDS + 1);
    expect(queries.every((q) => q.limit === 2)).toBe(true);
    await stream.return(undefined);
    clients.dynamodb.destroy();
  });

  it('listEnded with limit 1 walks every episode exactly once, in order; limit 7 pages the same', async () => {
    const since = new Date('2030-03-01T00:00:00.000Z');
    const until = new Date('2030-03-04T00:00:00.000Z');
    const walk = async (limit: number) => {
      const seen: EndedEpisodeRef[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<EpisodeStore['listEnded']>> = await store.listEnded(since, { until, limit, cursor });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        expect(page.items.length > 0 || cursor === null).toBe(true);
        seen.push(...page.items);
        cursor = page.cursor;
      } while (cursor !== null);
      return seen;
    };
    const expected = inExpectedOrder(written);
    expect(await walk(1)).toEqual(expected);
    expect(await walk(7)).toEqual(expected);
  });

  it('refuses a cursor it did not hand out, the unsharded listing cursor included', async () => {
    const since = new Date('2030-03-01T00:00:00.000Z');
    const oldFormat = Buffer.from(JSON.stringify({ d: '2030-03-01', k: null })).toString('base64url');
    const badTime = Buffer.from(JSON.stringify({ a: '2030-03-01', t: 'tenant-a', e: 'ep-1' })).toString('base64url');
    for (const cursor of ['not-a-cursor', oldFormat, badTime]) {
      await expect(store.listEnded(since, { cursor })).rejects.toMatchObject({ name: 'StorageError', code: 'invalid_cursor' });
    }
  });
});
