import { StoredEpisodeService, sweepOrphanCheckpoints } from '../../layers/episodes/src';
import { CHECKPOINTS_PREFIX, checkpointOwner, type EpisodeStore } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, run } from './helpers';

/**
 * Issue 12, item 9 (table row 11): a process killed between a checkpoint's upload and the
 * commit leaves an orphan object; the bucket-wide sweep removes it once it is older than the
 * safe age, and never an object an episode item points to.
 */

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

const TENANT = 'tenant-sweep';
const HOUR_MS = 3_600_000;

/** The episode store of a process that dies at its next commit: the commit and everything after it fail. */
function dyingAtCommit(episodes: EpisodeStore) {
  const state = { dead: false, armed: false };
  const store = new Proxy(episodes, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (state.armed && prop === 'commit') state.dead = true;
        if (state.dead) return Promise.reject(new Error('the process was killed'));
        return value.apply(target, args);
      };
    },
  });
  return { store, state };
}

function service(episodes: EpisodeStore = runtime.episodes) {
  return new StoredEpisodeService({
    episodes,
    checkpoints: runtime.checkpoints,
    trainers: instrumentedFactory(),
    clock: steppingClock(),
    newId: sequentialIds(`s${Math.random().toString(36).slice(2, 8)}`),
    logger: { warn: () => undefined, error: () => undefined },
  });
}

async function keysOf(episodeId: string): Promise<string[]> {
  return (await runtime.checkpoints.listAll(CHECKPOINTS_PREFIX)).map((o) => o.key).filter((k) => checkpointOwner(k)?.episodeId === episodeId);
}

describe('sweepOrphanCheckpoints', () => {
  it('removes the upload of a step killed before its commit only after the safe age, and never a referenced checkpoint', async () => {
    const { store, state } = dyingAtCommit(runtime.episodes);
    const victim = service(store);
    const { episode_id: episodeId } = await victim.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await victim.step({ tenant: TENANT, episodeId, call: configure() });
    const referenced = (await runtime.episodes.get(TENANT, episodeId))!.checkpoint!.key;
    state.armed = true;
    await expect(victim.step({ tenant: TENANT, episodeId, call: run(2) })).rejects.toThrow('killed');
    const orphans = (await keysOf(episodeId)).filter((k) => k !== referenced);
    expect(orphans).toHaveLength(1); // the killed step's upload, which nothing points to

    const other = service();
    const { episode_id: otherId } = await other.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await other.step({ tenant: TENANT, episodeId: otherId, call: configure() });
    const otherKey = (await runtime.episodes.get(TENANT, otherId))!.checkpoint!.key;

    // Young: kept (it might belong to a step about to commit).
    expect((await sweepOrphanCheckpoints(runtime)).deleted).toEqual([]);
    expect((await sweepOrphanCheckpoints(runtime, { now: () => Date.now() + HOUR_MS - 60_000 })).deleted).toEqual([]);
    // Older than the safe age: only the orphan goes.
    const swept = await sweepOrphanCheckpoints(runtime, { now: () => Date.now() + HOUR_MS + 60_000 });
    expect(swept.deleted).toEqual(orphans);
    expect(swept.cursor).toBeNull();
    expect(await keysOf(episodeId)).toEqual([referenced]);
    expect(await keysOf(otherId)).toEqual([otherKey]);
    // The episode can continue from its referenced checkpoint: still there, still matching its pointer.
    const pointer = (await runtime.episodes.get(TENANT, episodeId))!.checkpoint!;
    expect(pointer.key).toBe(referenced);
    await expect(runtime.checkpoints.getCheckpoint(pointer)).resolves.toBeInstanceOf(Uint8Array);
  });

  it("removes an old checkpoint of an episode that no longer exists, ignores keys it did not build, and runs bounded with a cursor", async () => {
    const ghost = `${CHECKPOINTS_PREFIX}${TENANT}/no-such-episode/${'a'.repeat(64)}.dead.bin`;
    const foreign = `${CHECKPOINTS_PREFIX}not-a-checkpoint`;
    await runtime.checkpoints.put(ghost, new Uint8Array([1, 2, 3]));
    await runtime.checkpoints.put(foreign, new Uint8Array([1]));
    const total = (await runtime.checkpoints.listAll(CHECKPOINTS_PREFIX)).length;

    const deleted: string[] = [];
    let cursor: string | null = null;
    let runs = 0;
    do {
      const result = await sweepOrphanCheckpoints(runtime, { minAgeSeconds: 0, now: () => Date.now() + 1000, maxObjects: 1, cursor });
      expect(result.examined).toBe(1);
      deleted.push(...result.deleted);
      cursor = result.cursor;
      runs += 1;
    } while (cursor !== null && runs <= total);
    expect(runs).toBe(total);
    expect(deleted).toEqual([ghost]);
    expect(await runtime.checkpoints.head(foreign)).not.toBeNull();
  });
});
