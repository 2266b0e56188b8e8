import { createEpisode } from '../../layers/core/src';
import { EpisodeStore, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { countingEpisodeStore, testRuntime } from './helpers';

/** A tenant's abandoned episodes (listIdleActive): active, last written before idleSince, oldest first (embedded DynamoDB). */

const NOW = '2030-05-10T00:00:00.000Z';
const IDLE_SINCE = new Date('2030-05-05T00:00:00.000Z');

function episode(id: string, createdAt: string, updatedAt: string, status: 'active' | 'submitted' = 'active'): StoredEpisode {
  const record = createEpisode('easy_mnist');
  record.status = status;
  return {
    tenant: 'tenant-a',
    episode_id: id,
    version: 0,
    created_at: createdAt,
    updated_at: updatedAt,
    record,
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: `c-${id}`,
    ended_at: status === 'active' ? null : updatedAt,
  };
}

describe('EpisodeStore.listIdleActive', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: () => new Date(NOW) } });
    store = runtime.episodes;
    // Written newest first, so that the order read back is the index's, not the writes'.
    for (const e of [
      episode('created-after', '2030-05-06T00:00:00.000Z', '2030-05-06T00:00:00.000Z'),
      episode('written-at-idle-since', '2030-05-04T00:00:00.000Z', '2030-05-05T00:00:00.000Z'),
      episode('recently-written', '2030-05-04T00:00:00.000Z', '2030-05-08T00:00:00.000Z'),
      episode('idle-3', '2030-05-03T00:00:00.000Z', '2030-05-04T23:59:59.999Z'),
      episode('submitted', '2030-05-02T12:00:00.000Z', '2030-05-02T13:00:00.000Z', 'submitted'),
      episode('idle-2', '2030-05-02T00:00:00.000Z', '2030-05-03T00:00:00.000Z'),
      episode('idle-1', '2030-05-01T00:00:00.000Z', '2030-05-01T00:00:00.000Z'),
    ]) {
      await store.insert(store.prepare(e));
    }
  });
  afterAll(async () => {
    await runtime?.close();
  });

  const ids = (summaries: { episode_id: string }[]) => summaries.map((s) => s.episode_id);

  it('lists the active episodes last written before idleSince, oldest first', async () => {
    expect(ids(await store.listIdleActive('tenant-a', IDLE_SINCE))).toEqual(['idle-1', 'idle-2', 'idle-3']);
  });

  it('lists at most limit (at least one), the oldest', async () => {
    expect(ids(await store.listIdleActive('tenant-a', IDLE_SINCE, { limit: 2 }))).toEqual(['idle-1', 'idle-2']);
    expect(ids(await store.listIdleActive('tenant-a', IDLE_SINCE, { limit: 3 }))).toEqual(['idle-1', 'idle-2', 'idle-3']);
    expect(ids(await store.listIdleActive('tenant-a', IDLE_SINCE, { limit: 0 }))).toEqual(['idle-1']);
  });

  it('lists nothing for an invalid tenant id, without asking the table', async () => {
    const observed = countingEpisodeStore(runtime, NOW);
    try {
      await expect(observed.store.listIdleActive('', IDLE_SINCE)).resolves.toEqual([]);
      await expect(observed.store.listIdleActive('tenant#a', IDLE_SINCE)).resolves.toEqual([]);
      expect(observed.requests()).toBe(0);
    } finally {
      observed.close();
    }
  });
});
