import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createEpisode } from '../../layers/core/src';
import { DYNAMODB_ITEM_LIMIT_BYTES, EpisodeStore, StorageError, estimateItemBytes } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, storedEpisode, testRuntime } from './helpers';

// dynalite's own size computation (what its 400 KB check uses).
const dynaliteItemSize = (require('dynalite/db') as { itemSize: (item: unknown) => number }).itemSize;

const episode = storedEpisode;

describe('EpisodeStore on dynalite', () => {
  let runtime: LocalRuntime;
  const clock = steppingClock('2030-01-02T03:04:05.000Z', 0);
  let store: EpisodeStore;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock } });
    store = runtime.episodes;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('round-trips an episode item exactly', async () => {
    const stored = episode('tenant-a', 'ep-roundtrip', {
      checkpoint: { key: 'checkpoints/tenant-a/ep-roundtrip/x.bin', sha256: 'a'.repeat(64), size: 12 },
      usage: { steps: 3, epochs_trained: 25, training_seconds: 1.234567 },
      results: { 'req-1': { call_sha256: 'b'.repeat(64), version: 1, view: '{"x":1}' } },
    });
    // Three epochs whose values do not round-trip through a decimal string naively (a possible record: every history has them).
    const model = stored.record.model;
    for (const history of [model.train_loss_history, model.val_loss_history, model.train_acc_history, model.val_acc_history, model.lr_history]) {
      history.push(0.1 + 0.2, 1e-7, 123456.789012345);
    }
    model.current_epoch = 3;
    stored.record.budget_used = 3;
    await store.insert(store.prepare(stored));
    expect(await store.get('tenant-a', 'ep-roundtrip')).toEqual(stored);
    // The item carries the TTL attribute and no end-time GSI attributes while active.
    const raw = await runtime.clients.documents.send(
      new GetCommand({ TableName: runtime.config.tableName, Key: { pk: 'episode#tenant-a#ep-roundtrip', sk: 'episode' } }),
    );
    expect(raw.Item?.expires_at).toBe(Math.floor(Date.parse(stored.updated_at) / 1000) + runtime.config.retentionSeconds);
    expect(raw.Item).not.toHaveProperty('ended_day');
  });

  it('inserts only where no episode exists', async () => {
    const stored = episode('tenant-a', 'ep-insert');
    await store.insert(store.prepare(stored));
    const refused = store.insert(store.prepare({ ...stored, commit_id: 'other' }));
    await expect(refused).rejects.toMatchObject({ code: 'conflict', message: 'Episode ep-insert already exists.' });
    expect((await store.get('tenant-a', 'ep-insert'))?.commit_id).toBe(stored.commit_id);
  });

  it('commits only on the expected version; a stale writer changes nothing', async () => {
    const v0 = episode('tenant-a', 'ep-occ');
    await store.insert(store.prepare(v0));
    const v1 = { ...v0, version: 1, commit_id: 'writer-1' };
    const rival = { ...v0, version: 1, commit_id: 'writer-2' };
    await store.commit(store.prepare(v1), 0);
    const error = await store.commit(store.prepare(rival), 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'conflict', message: 'Episode ep-occ is no longer at version 0.', details: { expected_version: 0 } });
    expect(await store.get('tenant-a', 'ep-occ')).toMatchObject({ version: 1, commit_id: 'writer-1' });
    // Committing on a missing episode is a conflict too, not an upsert.
    await expect(store.commit(store.prepare(episode('tenant-a', 'ep-missing', { version: 1 })), 0)).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(await store.get('tenant-a', 'ep-missing')).toBeNull();
  });

  it("scopes reads to the tenant: another tenant's id does not exist", async () => {
    await store.insert(store.prepare(episode('tenant-a', 'ep-private')));
    expect(await store.get('tenant-b', 'ep-private')).toBeNull();
    expect(await store.get('tenant-a', 'ep-private')).not.toBeNull();
    expect(await store.get('tenant-a', '../ep-private')).toBeNull();
  });

  it('refuses an item above the safety limit before writing anything', async () => {
    const small = new EpisodeStore(runtime.clients.documents, {
      tableName: runtime.config.tableName,
      retentionSeconds: 3600,
      maxItemBytes: 50 * 1024,
      clock,
    });
    const v0 = episode('tenant-a', 'ep-big');
    await small.insert(small.prepare(v0));
    const big = { ...v0, version: 1, commit_id: 'big' };
    const filler = (n: number) => [{ step: 1, tool: 'x', arguments: { blob: 'x'.repeat(n) }, reward: 0, error: null, epochs_trained: 0, model_generation: 0 }];
    big.record = { ...v0.record, steps: filler(60 * 1024) };
    let thrown: unknown;
    try {
      small.prepare(big);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StorageError);
    expect((thrown as StorageError).code).toBe('item_too_large');
    expect((thrown as StorageError).message).toMatch(/above the 51200-byte safety limit.*nothing was written/);
    const estimated = (thrown as StorageError).details.estimated_bytes as number;
    expect((thrown as StorageError).details).toEqual({ estimated_bytes: estimated, limit_bytes: 50 * 1024 });
    expect(estimated).toBeGreaterThan(60 * 1024);
    expect((await small.get('tenant-a', 'ep-big'))?.version).toBe(0);
    // The default limit stays well under DynamoDB's 400 KB and is enforced too.
    expect(store.maxItemBytes).toBeLessThanOrEqual(300 * 1024);
    big.record = { ...v0.record, steps: filler(310 * 1024) };
    expect(() => store.prepare(big)).toThrow(/safety limit/);
  });

  it('accepts an item of exactly the safety limit, and refuses one byte more', () => {
    const v0 = episode('tenant-a', 'ep-at-limit');
    const bytes = store.prepare(v0).estimatedBytes;
    const limited = (maxItemBytes: number) => new EpisodeStore(runtime.clients.documents, { tableName: runtime.config.tableName, retentionSeconds: 3600, maxItemBytes, clock });
    expect(limited(bytes).prepare(v0).estimatedBytes).toBe(bytes);
    expect(() => limited(bytes - 1).prepare(v0)).toThrow(expect.objectContaining({ code: 'item_too_large', details: { estimated_bytes: bytes, limit_bytes: bytes - 1 } }));
  });

  it('stores no trainer_ops attribute without pending trainer operations (none, or an empty list)', async () => {
    const raw = async (id: string) =>
      (await runtime.clients.documents.send(new GetCommand({ TableName: runtime.config.tableName, Key: { pk: `episode#tenant-a#${id}`, sk: 'episode' } }))).Item!;
    const none = episode('tenant-a', 'ep-no-ops', { trainer_ops: [] });
    await store.insert(store.prepare(none));
    expect(await raw('ep-no-ops')).not.toHaveProperty('trainer_ops');
    expect(await store.get('tenant-a', 'ep-no-ops')).toStrictEqual(episode('tenant-a', 'ep-no-ops'));
    await store.insert(store.prepare(episode('tenant-a', 'ep-unset-ops')));
    expect(await raw('ep-unset-ops')).not.toHaveProperty('trainer_ops');
  });

  it('estimates item sizes at or above what DynamoDB (dynalite) counts', async () => {
    const samples: Record<string, unknown>[] = [
      store.prepare(episode('tenant-a', 'ep-s1')).item,
      store.prepare(
        episode('tenant-a', 'ep-s2', {
          results: { 'r-é': { call_sha256: 'd'.repeat(64), version: 7, view: 'ünïcødé ✓ '.repeat(500) } },
          usage: { steps: 15, epochs_trained: 100, training_seconds: 1234.567891 },
        }),
      ).item,
      { pk: 'x', list: [1, -2.5, 'a', null, true, { m: [[]] }], n: 1.2345678901234567e-300, s: '' },
    ];
    for (const item of samples) {
      const actual = dynaliteItemSize(marshall(item, { removeUndefinedValues: true }));
      expect(estimateItemBytes(item)).toBeGreaterThanOrEqual(actual);
    }
  });

  it('dynalite itself refuses items above 400 KB (the bound the safety limit keeps away from)', async () => {
    const huge = { pk: 'episode#tenant-a#too-big', sk: 'episode', filler: 'x'.repeat(DYNAMODB_ITEM_LIMIT_BYTES + 1) };
    await expect(runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: huge }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('treats an expired item as absent (TTL deletes lazily on AWS and never on dynalite)', async () => {
    const old = episode('tenant-x', 'ep-old', { updated_at: '2029-01-01T00:00:00.000Z', created_at: '2029-01-01T00:00:00.000Z' });
    const short = new EpisodeStore(runtime.clients.documents, { tableName: runtime.config.tableName, retentionSeconds: 60, clock });
    await short.insert(short.prepare(old));
    expect(await short.get('tenant-x', 'ep-old')).toBeNull();
    expect((await short.listByTenant('tenant-x')).items).toEqual([]);
  });

  it('notes bookkeeping on an episode only at the version read, keeping the first grading note', async () => {
    const stored = episode('tenant-a', 'ep-notes');
    await store.insert(store.prepare(stored));
    const raw = async () =>
      (await runtime.clients.documents.send(new GetCommand({ TableName: runtime.config.tableName, Key: { pk: 'episode#tenant-a#ep-notes', sk: 'episode' } }))).Item!;
    expect(await store.noteIfAtVersion('tenant-a', 'ep-notes', 0, { graded_at: 't1', graded_by: 'api', grade_matches: true })).toBe(true);
    expect(await store.noteIfAtVersion('tenant-a', 'ep-notes', 0, { graded_at: 't2', graded_by: 'batch:run-1', grade_matches: false })).toBe(true);
    expect(await raw()).toMatchObject({ graded_at: 't1', graded_by: 'api', grade_matches: false, version: 0 });
    // A stale version or a missing episode: nothing is written.
    expect(await store.noteIfAtVersion('tenant-a', 'ep-notes', 1, { auto_submitted_by: 'run-1' })).toBe(false);
    expect(await store.noteIfAtVersion('tenant-a', 'ep-missing-notes', 0, { auto_submitted_by: 'run-1' })).toBe(false);
    expect(await raw()).not.toHaveProperty('auto_submitted_by');
    expect(await store.get('tenant-a', 'ep-notes')).toEqual(stored);
  });

  it("lists a tenant's episodes newest first with a cursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `ep-list-${i}`;
      ids.push(id);
      const at = new Date(Date.parse('2030-01-02T00:00:00.000Z') + i * 60_000).toISOString();
      await store.insert(store.prepare(episode('tenant-list', id, { created_at: at, updated_at: at })));
    }
    // Same created time as ep-list-4: both are listed, in either order.
    await store.insert(
      store.prepare(episode('tenant-list', 'ep-list-4b', { created_at: '2030-01-02T00:04:00.000Z', updated_at: '2030-01-02T00:04:00.000Z' })),
    );
    await store.insert(store.prepare(episode('tenant-other', 'ep-other')));
    const seen: string[] = [];
    let cursor: string | null = null;
    const pages: number[] = [];
    do {
      const page: Awaited<ReturnType<EpisodeStore['listByTenant']>> = await store.listByTenant('tenant-list', { limit: 2, cursor });
      pages.push(page.items.length);
      seen.push(...page.items.map((s) => s.episode_id));
      expect(page.items.every((s) => s.tenant === 'tenant-list')).toBe(true);
      cursor = page.cursor;
    } while (cursor !== null);
    expect(seen.slice(0, 2).sort()).toEqual(['ep-list-4', 'ep-list-4b']);
    expect(seen.slice(2)).toEqual(['ep-list-3', 'ep-list-2', 'ep-list-1', 'ep-list-0']);
    expect(pages).toEqual([2, 2, 2]);
    const first = await store.listByTenant('tenant-list', { limit: 2 });
    expect(first.items[0]).toMatchObject({ task_id: 'easy_mnist', status: 'active', version: 0, score: null, seed: 42 });
    // Another tenant cannot use the cursor.
    await expect(store.listByTenant('tenant-other', { cursor: first.cursor })).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(store.listByTenant('tenant-list', { cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'invalid_cursor',
      message: 'The cursor is not one this service handed out.',
    });
  });

  it('finds episodes that ended since a time, across days (sparse GSI)', async () => {
    const ended = (id: string, at: string) => {
      const record = createEpisode('easy_mnist');
      record.status = 'submitted';
      record.grade = { score: 0.5, details: {} };
      return episode('tenant-end', id, { record, ended_at: at, updated_at: at, created_at: '2030-01-01T00:00:00.000Z' });
    };
    await store.insert(store.prepare(ended('ep-e1', '2030-01-01T23:59:59.000Z')));
    await store.insert(store.prepare(ended('ep-e2', '2030-01-02T00:00:01.000Z')));
    await store.insert(store.prepare(ended('ep-e3', '2030-01-02T02:00:00.000Z')));
    await store.insert(store.prepare(episode('tenant-end', 'ep-active')));
    const since = new Date('2030-01-01T12:00:00.000Z');
    const until = new Date('2030-01-02T03:00:00.000Z');
    const all = await store.listEnded(since, { until });
    expect(all.items.map((e) => e.episode_id)).toEqual(['ep-e1', 'ep-e2', 'ep-e3']);
    expect(all.items[0]).toMatchObject({ tenant: 'tenant-end', task_id: 'easy_mnist', score: 0.5 });
    expect(all.cursor).toBeNull();
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<EpisodeStore['listEnded']>> = await store.listEnded(since, { until, limit: 1, cursor });
      paged.push(...page.items.map((e) => e.episode_id));
      cursor = page.cursor;
    } while (cursor !== null);
    expect(paged).toEqual(['ep-e1', 'ep-e2', 'ep-e3']);
    expect((await store.listEnded(new Date('2030-01-02T01:00:00.000Z'), { until })).items.map((e) => e.episode_id)).toEqual(['ep-e3']);
    expect(await store.countEnded(since, until)).toBe(3);
    await expect(store.listEnded(since, { until, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'invalid_cursor' });
  });
});
