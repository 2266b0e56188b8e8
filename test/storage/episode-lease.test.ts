import { createEpisode } from '../../layers/core/src';
import type { EpisodeStore, StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, testRuntime } from './helpers';

const TENANT = 'tenant-lease';

function episode(id: string, version = 0): StoredEpisode {
  return {
    tenant: TENANT,
    episode_id: id,
    version,
    created_at: '2030-01-02T03:04:05.000Z',
    updated_at: '2030-01-02T03:04:05.000Z',
    record: createEpisode('easy_mnist'),
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: `c-${id}-${version}`,
    ended_at: null,
  };
}

const claim = (holder: string, requestId: string | null = 'req-1') => ({ holder, request_id: requestId, call_sha256: 'a'.repeat(64) });

describe('the single-flight lease of an episode item (EpisodeStore on dynalite)', () => {
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

  it('is taken once: a second claim is refused with the holder, and neither changes the version or the episode', async () => {
    const stored = episode('ep-once');
    await store.insert(store.prepare(stored));
    const first = await store.acquireLease(TENANT, 'ep-once', 0, claim('holder-1'), 60_000);
    expect(first).toEqual({ acquired: { ...claim('holder-1'), expires_at: '2030-01-02T03:05:05.000Z' } });
    const second = await store.acquireLease(TENANT, 'ep-once', 0, claim('holder-2', 'req-2'), 60_000);
    expect(second).toEqual({ refused: { version: 0, lease: { ...claim('holder-1'), expires_at: '2030-01-02T03:05:05.000Z' } } });
    expect(await store.get(TENANT, 'ep-once')).toEqual(stored);
    expect(await store.readLease(TENANT, 'ep-once')).toEqual({ version: 0, lease: (first as { acquired: unknown }).acquired });
  });

  it('is refused at another version, and on a missing episode', async () => {
    await store.insert(store.prepare(episode('ep-version', 3)));
    expect(await store.acquireLease(TENANT, 'ep-version', 2, claim('h'), 60_000)).toEqual({ refused: { version: 3, lease: null } });
    expect(await store.acquireLease(TENANT, 'ep-missing', 0, claim('h'), 60_000)).toEqual({ refused: null });
    expect(await store.readLease(TENANT, 'ep-missing')).toBeNull();
  });

  it('is released only by its holder, and a commit replaces the item without it', async () => {
    const stored = episode('ep-release');
    await store.insert(store.prepare(stored));
    await store.acquireLease(TENANT, 'ep-release', 0, claim('holder-1'), 60_000);
    expect(await store.releaseLease(TENANT, 'ep-release', 'holder-2')).toBe(false);
    expect((await store.readLease(TENANT, 'ep-release'))!.lease).not.toBeNull();
    expect(await store.releaseLease(TENANT, 'ep-release', 'holder-1')).toBe(true);
    expect(await store.readLease(TENANT, 'ep-release')).toEqual({ version: 0, lease: null });

    expect(await store.acquireLease(TENANT, 'ep-release', 0, claim('holder-3'), 60_000)).toHaveProperty('acquired');
    await store.commit(store.prepare({ ...stored, version: 1, commit_id: 'holder-3' }), 0);
    expect(await store.readLease(TENANT, 'ep-release')).toEqual({ version: 1, lease: null });
    expect(await store.acquireLease(TENANT, 'ep-release', 1, claim('holder-4'), 60_000)).toHaveProperty('acquired');
  });

  it('blocks an unleased commit while live, which is refused naming both reasons', async () => {
    const stored = episode('ep-unleased');
    await store.insert(store.prepare(stored));
    await store.acquireLease(TENANT, 'ep-unleased', 0, claim('holder-1'), 60_000);
    const refused = store.commit(store.prepare({ ...stored, version: 1, commit_id: 'api-1' }), 0, { unleased: true });
    await expect(refused).rejects.toMatchObject({
      code: 'conflict',
      message: 'Episode ep-unleased is no longer at version 0, or another step holds its lease.',
      details: { expected_version: 0 },
    });
    expect(await store.get(TENANT, 'ep-unleased')).toEqual(stored);
  });

  it("lapses at its expiry: a crashed holder's lease no longer blocks anyone", async () => {
    await store.insert(store.prepare(episode('ep-lapse')));
    await store.acquireLease(TENANT, 'ep-lapse', 0, claim('crashed'), 60_000);
    clock.advance(59_999);
    expect(await store.acquireLease(TENANT, 'ep-lapse', 0, claim('next'), 60_000)).toHaveProperty('refused');
    clock.advance(1);
    expect(await store.readLease(TENANT, 'ep-lapse')).toEqual({ version: 0, lease: null });
    expect(await store.acquireLease(TENANT, 'ep-lapse', 0, claim('next'), 60_000)).toEqual({
      acquired: { ...claim('next'), expires_at: new Date(clock().getTime() + 60_000).toISOString() },
    });
    // The crashed holder's late release removes nothing.
    expect(await store.releaseLease(TENANT, 'ep-lapse', 'crashed')).toBe(false);
    expect((await store.readLease(TENANT, 'ep-lapse'))!.lease!.holder).toBe('next');
  });

  it('is renewed only by its holder while it is live: a lapsed or taken lease stays as it is', async () => {
    const stored = episode('ep-renew');
    await store.insert(store.prepare(stored));
    await store.acquireLease(TENANT, 'ep-renew', 0, claim('holder-1'), 30_000);
    clock.advance(20_000);
    const renewed = await store.renewLease(TENANT, 'ep-renew', 'holder-1', 30_000);
    expect(renewed).toEqual({ expires_at: new Date(clock().getTime() + 30_000).toISOString() });
    // Renewed past the first expiry: still held, the version and the episode untouched.
    clock.advance(20_000);
    expect(await store.readLease(TENANT, 'ep-renew')).toEqual({ version: 0, lease: { ...claim('holder-1'), expires_at: renewed!.expires_at } });
    expect(await store.acquireLease(TENANT, 'ep-renew', 0, claim('holder-2'), 30_000)).toHaveProperty('refused');
    expect(await store.renewLease(TENANT, 'ep-renew', 'holder-2', 30_000)).toBeNull();
    expect(await store.get(TENANT, 'ep-renew')).toEqual(stored);

    // Renewals stop: it lapses, and its holder cannot revive it, neither before nor after another step takes it.
    clock.advance(10_000);
    expect(await store.renewLease(TENANT, 'ep-renew', 'holder-1', 30_000)).toBeNull();
    expect(await store.readLease(TENANT, 'ep-renew')).toEqual({ version: 0, lease: null });
    expect(await store.acquireLease(TENANT, 'ep-renew', 0, claim('holder-2'), 30_000)).toHaveProperty('acquired');
    expect(await store.renewLease(TENANT, 'ep-renew', 'holder-1', 30_000)).toBeNull();
    expect((await store.readLease(TENANT, 'ep-renew'))!.lease!.holder).toBe('holder-2');

    // After a commit (the item replaced without a lease) a late renewal adds nothing back.
    await store.commit(store.prepare({ ...stored, version: 1, commit_id: 'holder-2' }), 0);
    expect(await store.renewLease(TENANT, 'ep-renew', 'holder-2', 30_000)).toBeNull();
    expect(await store.readLease(TENANT, 'ep-renew')).toEqual({ version: 1, lease: null });
    expect(await store.renewLease(TENANT, 'ep-missing', 'holder-2', 30_000)).toBeNull();
  });
});
