import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import { StorageError, type EpisodeStore, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { testRuntime } from './helpers';

/**
 * How an episode item's attributes read back: its expiry by the store's clock, the item
 * schema it was written with, its pending trainer operations and its results' compressed views.
 */
const NOW = '2030-01-02T03:04:05.000Z';
const NOW_SECONDS = Date.parse(NOW) / 1000;

describe('EpisodeStore reads and writes the attributes of an episode item', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;
  let n = 0;
  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  function episode(overrides: Partial<StoredEpisode> = {}): StoredEpisode {
    const id = `ep-${String(++n).padStart(4, '0')}`;
    return {
      tenant: 'tenant-a',
      episode_id: id,
      version: 0,
      created_at: NOW,
      updated_at: NOW,
      record: createEpisode('easy_mnist'),
      checkpoint: null,
      usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
      results: {},
      commit_id: `c-${id}`,
      ended_at: null,
      ...overrides,
    };
  }

  const keyOf = (id: string) => ({ pk: `episode#tenant-a#${id}`, sk: 'episode' });

  async function rawItem(id: string): Promise<Record<string, unknown>> {
    const { Item } = await runtime.clients.documents.send(new GetCommand({ TableName: runtime.config.tableName, Key: keyOf(id) }));
    return Item!;
  }

  /** Inserts an episode, then rewrites its item in the table as edit makes it. */
  async function storedAs(edit: (item: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
    const stored = episode();
    await store.insert(store.prepare(stored));
    const item = edit(await rawItem(stored.episode_id));
    await runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: item }));
    return stored.episode_id;
  }

  describe('expiry', () => {
    it('an item whose expires_at is the current second reads as gone', async () => {
      const id = await storedAs((item) => ({ ...item, expires_at: NOW_SECONDS }));
      await expect(store.get('tenant-a', id)).resolves.toBeNull();
    });

    it('an item expiring one second from now still reads', async () => {
      const id = await storedAs((item) => ({ ...item, expires_at: NOW_SECONDS + 1 }));
      await expect(store.get('tenant-a', id)).resolves.toMatchObject({ episode_id: id });
    });

    it('an item whose expires_at is null or absent never expires', async () => {
      const nulled = await storedAs((item) => ({ ...item, expires_at: null }));
      const absent = await storedAs(({ expires_at: _expires, ...item }) => item);
      await expect(store.get('tenant-a', nulled)).resolves.toMatchObject({ episode_id: nulled });
      await expect(store.get('tenant-a', absent)).resolves.toMatchObject({ episode_id: absent });
    });
  });

  it('an item written with another item_schema is refused, naming the item and both schemas', async () => {
    const id = await storedAs((item) => ({ ...item, item_schema: 2 }));
    await expect(store.get('tenant-a', id)).rejects.toThrow(`Episode item episode#tenant-a#${id} has item_schema 2; this version reads 1.`);
  });

  describe('pending trainer operations', () => {
    async function refusal(trainerOps: unknown): Promise<{ id: string; read: Promise<unknown> }> {
      const id = await storedAs((item) => ({ ...item, trainer_ops: trainerOps }));
      return { id, read: store.get('tenant-a', id) };
    }

    it('an attribute that is not JSON text is refused as an invalid item', async () => {
      const { id, read } = await refusal(7);
      await expect(read).rejects.toBeInstanceOf(StorageError);
      await expect(read).rejects.toMatchObject({ code: 'invalid_item', details: { tenant: 'tenant-a', episode_id: id } });
      await expect(read).rejects.toThrow(
        `Episode item episode#tenant-a#${id} holds no valid pending trainer operations: the trainer_ops attribute is a number, not JSON text`,
      );
    });

    it('operations that fail the schema are refused as an invalid item', async () => {
      const { id, read } = await refusal('[{"kind":"no-such-operation"}]');
      await expect(read).rejects.toMatchObject({ code: 'invalid_item', details: { tenant: 'tenant-a', episode_id: id } });
      await expect(read).rejects.toThrow(`Episode item episode#tenant-a#${id} holds no valid pending trainer operations: `);
    });

    it('an empty list reads as no trainer_ops field at all', async () => {
      const id = await storedAs((item) => ({ ...item, trainer_ops: '[]' }));
      const read = await store.get('tenant-a', id);
      expect(read).not.toBeNull();
      expect(read).not.toHaveProperty('trainer_ops');
    });
  });

  describe('record attribute', () => {
    it('a record that is not JSON text is refused, naming its type', async () => {
      const id = await storedAs((item) => ({ ...item, record: 42 }));
      const read = store.get('tenant-a', id);
      await expect(read).rejects.toMatchObject({ code: 'invalid_item', details: { tenant: 'tenant-a', episode_id: id } });
      await expect(read).rejects.toThrow(
        `Episode item episode#tenant-a#${id} holds no valid episode record: the record attribute is a number, not JSON text`,
      );
    });
  });

  describe('result views', () => {
    it('a view replaced after reading is stored as replaced, and an unchanged one as it was', async () => {
      const stored = episode({
        results: {
          'req-kept': { call_sha256: 'a'.repeat(64), version: 1, view: '{"kept":true}' },
          'req-replaced': { call_sha256: 'b'.repeat(64), version: 1, view: '{"replaced":false}' },
        },
      });
      await store.insert(store.prepare(stored));
      const read = (await store.get('tenant-a', stored.episode_id))!;
      read.results['req-replaced'].view = '{"replaced":true}';
      await store.commit(store.prepare({ ...read, version: 1 }), 0);

      const again = (await store.get('tenant-a', stored.episode_id))!;
      expect(again.results).toEqual({
        'req-kept': { call_sha256: 'a'.repeat(64), version: 1, view: '{"kept":true}' },
        'req-replaced': { call_sha256: 'b'.repeat(64), version: 1, view: '{"replaced":true}' },
      });
    });
  });
});
