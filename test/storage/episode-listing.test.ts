import { createEpisode } from '../../layers/core/src';
import { createStorageClients, EpisodeStore, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { countingEpisodeStore, testRuntime } from './helpers';

/**
 * A tenant's episode listing (listByTenant, newest first, a page at a time) and the
 * removal of an episode from it (delete), on embedded DynamoDB.
 */

const NOW = '2030-05-10T00:00:00.000Z';
/** Long past the retention: an episode last written then reads as gone. */
const LONG_AGO = '2020-01-01T00:00:00.000Z';
/** Longer than any key-safe id, and than DynamoDB allows in a key: sent to the table, it is refused. */
const OVERLONG_ID = 'x'.repeat(3000);
const REFUSED_CURSOR = { name: 'StorageError', code: 'invalid_cursor', message: 'The cursor does not belong to this listing.' };

function episode(tenant: string, id: string, createdAt: string, options: { updatedAt?: string; score?: number } = {}): StoredEpisode {
  const record = createEpisode('easy_mnist');
  if (options.score !== undefined) {
    record.status = 'submitted';
    record.grade = { score: options.score, details: {} };
  }
  return {
    tenant,
    episode_id: id,
    version: 0,
    created_at: createdAt,
    updated_at: options.updatedAt ?? createdAt,
    record,
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: `c-${id}`,
    ended_at: null,
  };
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('EpisodeStore.listByTenant', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
    // tenant-a, newest first: live-4, expired-3, live-2, live-1, live-0 (an expired episode between live ones).
    await store.insert(store.prepare(episode('tenant-a', 'live-0', '2030-05-01T00:00:00.000Z')));
    await store.insert(store.prepare(episode('tenant-a', 'live-1', '2030-05-01T00:00:01.000Z')));
    await store.insert(store.prepare(episode('tenant-a', 'live-2', '2030-05-01T00:00:02.000Z', { score: 0.75 })));
    await store.insert(store.prepare(episode('tenant-a', 'expired-3', '2030-05-01T00:00:03.000Z', { updatedAt: LONG_AGO })));
    await store.insert(store.prepare(episode('tenant-a', 'live-4', '2030-05-01T00:00:04.000Z')));
    await store.insert(store.prepare(episode('tenant-b', 'live-1', '2030-05-01T00:00:05.000Z')));
  });
  afterAll(async () => {
    await runtime?.close();
  });

  const ids = (page: { items: { episode_id: string }[] }) => page.items.map((s) => s.episode_id);

  it('lists newest first without expired episodes, with the summary score (null when ungraded)', async () => {
    const page = await store.listByTenant('tenant-a');
    expect(ids(page)).toEqual(['live-4', 'live-2', 'live-1', 'live-0']);
    expect(page.cursor).toBeNull();
    expect(page.items.map((s) => s.score)).toEqual([null, 0.75, null, null]);
  });

  it('hands out a cursor when a page is full and more live episodes follow, though an expired one fills a Query page', async () => {
    const first = await store.listByTenant('tenant-a', { limit: 2 });
    expect(ids(first)).toEqual(['live-4', 'live-2']);
    expect(first.cursor).not.toBeNull();
    const second = await store.listByTenant('tenant-a', { limit: 2, cursor: first.cursor });
    expect(ids(second)).toEqual(['live-1', 'live-0']);
    expect(second.cursor).toBeNull();
  });

  it('reads no more index rows than the page and the one that tells whether another follows', async () => {
    const clients = createStorageClients(runtime.config);
    const scanned: number[] = [];
    clients.documents.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        scanned.push((result.output as { ScannedCount?: number }).ScannedCount ?? 0);
        return result;
      },
      { step: 'initialize' },
    );
    const observed = new EpisodeStore(clients.documents, { tableName: runtime.config.tableName, retentionSeconds: runtime.config.retentionSeconds, clock: () => new Date(NOW) });
    try {
      // 2 live of the first 3 rows read (one expired): a second Query for the one missing row.
      const page = await observed.listByTenant('tenant-a', { limit: 2 });
      expect(ids(page)).toEqual(['live-4', 'live-2']);
      expect(scanned).toEqual([3, 1]);
    } finally {
      clients.dynamodb.destroy();
    }
  });

  it('lists nothing for an invalid tenant id, without asking the table', async () => {
    const observed = countingEpisodeStore(runtime, NOW);
    try {
      for (const tenant of ['', 'tenant#a', OVERLONG_ID]) {
        await expect(observed.store.listByTenant(tenant)).resolves.toEqual({ items: [], cursor: null });
      }
      expect(observed.requests()).toBe(0);
    } finally {
      observed.close();
    }
  });

  it('refuses a cursor of another tenant, however it names the episode', async () => {
    const { cursor } = await store.listByTenant('tenant-a', { limit: 1 });
    await expect(store.listByTenant('tenant-b', { cursor })).rejects.toMatchObject(REFUSED_CURSOR);
  });

  it('refuses a cursor that is not a listing position, or names another tenant in any part', async () => {
    const { cursor } = await store.listByTenant('tenant-a', { limit: 1 });
    const valid = JSON.parse(Buffer.from(cursor!, 'base64url').toString('utf8')) as { t: string; c: string; p: string };
    expect(valid.t).toBe('tenant-a');
    const refused: [what: string, value: unknown][] = [
      ['null', null],
      ['no episode key', { t: valid.t, c: valid.c }],
      ['an episode key that is not a string', { t: valid.t, c: valid.c, p: 7 }],
      ['an episode key that does not parse', { t: valid.t, c: valid.c, p: 'garbage' }],
      ["another tenant's episode key", { t: valid.t, c: valid.c, p: 'episode#tenant-b#live-1' }],
      ['another tenant', { t: 'tenant-b', c: valid.c, p: valid.p }],
      ['no tenant', { c: valid.c, p: valid.p }],
      ['no creation time', { t: valid.t, p: valid.p }],
      ['a creation time that is not a string', { t: valid.t, c: 5, p: valid.p }],
    ];
    for (const [what, value] of refused) {
      await expect(store.listByTenant('tenant-a', { cursor: cursorOf(value) }).then(() => `${what}: accepted`)).rejects.toMatchObject(REFUSED_CURSOR);
    }
    expect(ids(await store.listByTenant('tenant-a', { cursor: cursorOf(valid) }))).toEqual(['live-2', 'live-1', 'live-0']);
  });
});

describe('EpisodeStore.delete', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it("removes the tenant's episode from reads and from its listing", async () => {
    await store.insert(store.prepare(episode('tenant-a', 'ep-1', '2030-05-01T00:00:01.000Z')));
    await store.insert(store.prepare(episode('tenant-a', 'ep-2', '2030-05-01T00:00:02.000Z')));
    await store.delete('tenant-a', 'ep-1');
    expect(await store.get('tenant-a', 'ep-1')).toBeNull();
    expect((await store.listByTenant('tenant-a')).items.map((s) => s.episode_id)).toEqual(['ep-2']);
  });

  it('does nothing for an invalid tenant or episode id, without asking the table', async () => {
    await expect(store.delete(OVERLONG_ID, 'ep-2')).resolves.toBeUndefined();
    await expect(store.delete('tenant-a', OVERLONG_ID)).resolves.toBeUndefined();
    await expect(store.delete(OVERLONG_ID, OVERLONG_ID)).resolves.toBeUndefined();
    expect(await store.get('tenant-a', 'ep-2')).not.toBeNull();
  });
});
