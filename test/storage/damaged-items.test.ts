import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import { StorageError, type EpisodeStore, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, testRuntime } from './helpers';

/**
 * Issue 12 item 7: an episode item edited or damaged in the table is refused on read with a
 * StorageError naming the item and the field, never handed to a step (embedded DynamoDB).
 */
const EDITS: [what: string, edit: (record: any) => unknown, expected: RegExp][] = [
  ['step_count 99 of 15', (r) => ({ ...r, step_count: 99 }), /step_count: must be at most max_steps \(15\), got 99/],
  ['histories of unequal length', (r) => ({ ...r, model: { ...r.model, lr_history: [0.1] } }), /model\.lr_history: must hold one value per epoch/],
  ['epochs beyond the budget', (r) => ({ ...r, budget_used: 101 }), /budget_used: must be at most the task's epoch budget \(100\), got 101/],
  ['a record that is not JSON', () => '{"schema_version":', /holds no valid episode record: .*JSON/],
  ['no record attribute', () => undefined, /the record attribute is missing/],
  ['another schema version', (r) => ({ ...r, schema_version: 7 }), /schema_version 7/],
];

describe('EpisodeStore refuses damaged episode items on read', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;
  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: steppingClock('2030-01-02T03:04:05.000Z', 0) } });
    store = runtime.episodes;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it.each(EDITS)('%s', async (_what, edit, expected) => {
    const id = `ep-${Math.random().toString(36).slice(2)}`;
    const stored: StoredEpisode = {
      tenant: 'tenant-a',
      episode_id: id,
      version: 0,
      created_at: '2030-01-02T03:04:05.000Z',
      updated_at: '2030-01-02T03:04:05.000Z',
      record: createEpisode('easy_mnist'),
      checkpoint: null,
      usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
      results: {},
      commit_id: `c-${id}`,
      ended_at: null,
    };
    await store.insert(store.prepare(stored));
    const Key = { pk: `episode#tenant-a#${id}`, sk: 'episode' };
    const { Item } = await runtime.clients.documents.send(new GetCommand({ TableName: runtime.config.tableName, Key }));
    const edited = edit(JSON.parse(Item!.record as string));
    const { record: _record, ...rest } = Item!;
    const item = edited === undefined ? rest : { ...rest, record: typeof edited === 'string' ? edited : JSON.stringify(edited) };
    await runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: item }));

    const read = store.get('tenant-a', id);
    await expect(read).rejects.toBeInstanceOf(StorageError);
    await expect(read).rejects.toMatchObject({ code: 'invalid_item', details: { tenant: 'tenant-a', episode_id: id } });
    await expect(read).rejects.toThrow(expected);
    await expect(read).rejects.toThrow(`Episode item episode#tenant-a#${id}`);
  });
});

describe("an episode item whose tenant attribute is not its key's tenant", () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;
  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: steppingClock('2030-01-02T03:04:05.000Z', 0) } });
    store = runtime.episodes;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it("reads as absent: the item is not the key's tenant's episode", async () => {
    const stored: StoredEpisode = {
      tenant: 'tenant-a',
      episode_id: 'ep-moved',
      version: 0,
      created_at: '2030-01-02T03:04:05.000Z',
      updated_at: '2030-01-02T03:04:05.000Z',
      record: createEpisode('easy_mnist'),
      checkpoint: null,
      usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
      results: {},
      commit_id: 'c-ep-moved',
      ended_at: null,
    };
    await store.insert(store.prepare(stored));
    expect(await store.readLease('tenant-a', 'ep-moved')).toEqual({ version: 0, lease: null });
    const Key = { pk: 'episode#tenant-a#ep-moved', sk: 'episode' };
    const { Item } = await runtime.clients.documents.send(new GetCommand({ TableName: runtime.config.tableName, Key }));
    await runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: { ...Item!, tenant: 'tenant-b' } }));

    expect(await store.get('tenant-a', 'ep-moved')).toBeNull();
    expect(await store.getWithNotes('tenant-a', 'ep-moved')).toBeNull();
    expect(await store.readLease('tenant-a', 'ep-moved')).toBeNull();
  });
});
