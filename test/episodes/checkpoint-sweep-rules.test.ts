import { isOrphanCheckpoint, StoredEpisodeService, sweepOrphanCheckpoints } from '../../layers/episodes/src';
import { CHECKPOINTS_PREFIX, checkpointPrefix, type BlobStore, type EpisodeStore } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { instrumentedFactory } from './helpers';

/** The orphan rule at its edges, the one read per episode, and sweeps over listings that come in short pages. */

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

const TENANT = 'tenant-sweep-rules';
const sha = (c: string) => c.repeat(64);
/** Every object stored so far is older than a zero safe age by this clock. */
const sweepNow = () => Date.now() + 2000;

describe('isOrphanCheckpoint', () => {
  const key = `${checkpointPrefix(TENANT, 'ep')}${sha('a')}.x.bin`;
  const cutoff = Date.parse('2030-01-01T00:00:00.000Z');

  it('keeps an object of unknown age', () => {
    expect(isOrphanCheckpoint({ key, size: 1, lastModified: undefined }, null, cutoff)).toBe(false);
  });

  it('sweeps an unreferenced object exactly as old as the cutoff, and keeps one a millisecond younger', () => {
    expect(isOrphanCheckpoint({ key, size: 1, lastModified: new Date(cutoff) }, null, cutoff)).toBe(true);
    expect(isOrphanCheckpoint({ key, size: 1, lastModified: new Date(cutoff + 1) }, null, cutoff)).toBe(false);
  });

  it('keeps the referenced object however old', () => {
    expect(isOrphanCheckpoint({ key, size: 1, lastModified: new Date(0) }, key, cutoff)).toBe(false);
  });
});

/** The bucket as S3 may list it: pages shorter than the limit asked for (still truncated). */
function shortPages(checkpoints: BlobStore, pageSize: number): BlobStore {
  return new Proxy(checkpoints, {
    get(target, prop) {
      if (prop === 'list') {
        return (prefix: string, options: { limit?: number; cursor?: string | null } = {}) =>
          target.list(prefix, { ...options, limit: Math.min(pageSize, options.limit ?? 1000) });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The episode store, counting its item reads. */
function countingGets(episodes: EpisodeStore) {
  const gets: string[] = [];
  const store = new Proxy(episodes, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'get') {
        return (tenant: string, episodeId: string) => {
          gets.push(`${tenant}/${episodeId}`);
          return value.call(target, tenant, episodeId);
        };
      }
      return value.bind(target);
    },
  });
  return { store, gets };
}

async function putObjects(episodeId: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `${checkpointPrefix(TENANT, episodeId)}${sha(String(i))}.a${i}.bin`);
  for (const key of keys) await runtime.checkpoints.put(key, new Uint8Array([1]));
  return keys;
}

async function remaining(): Promise<string[]> {
  return (await runtime.checkpoints.listAll(`${CHECKPOINTS_PREFIX}${TENANT}/`)).map((o) => o.key);
}

describe('sweepOrphanCheckpoints', () => {
  afterEach(async () => {
    const keys = await remaining();
    if (keys.length > 0) await runtime.checkpoints.deleteMany(keys);
  });

  it('reads each episode once however many objects it has, and sweeps the objects of an episode that has no checkpoint yet', async () => {
    const service = new StoredEpisodeService({
      episodes: runtime.episodes,
      checkpoints: runtime.checkpoints,
      trainers: instrumentedFactory(),
      clock: steppingClock(),
      newId: sequentialIds(`r${Math.random().toString(36).slice(2, 8)}`),
    });
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    expect((await runtime.episodes.get(TENANT, episodeId))!.checkpoint).toBeNull();
    const keys = await putObjects(episodeId, 3);
    const { store, gets } = countingGets(runtime.episodes);

    const result = await sweepOrphanCheckpoints({ episodes: store, checkpoints: runtime.checkpoints }, { minAgeSeconds: 0, now: sweepNow });
    expect(result.deleted).toEqual(keys);
    expect(gets).toEqual([`${TENANT}/${episodeId}`]);
    expect(await remaining()).toEqual([]);
  });

  it('follows short pages to the end of the bucket', async () => {
    const keys = await putObjects('gone-episode', 5);
    const total = (await runtime.checkpoints.listAll(CHECKPOINTS_PREFIX)).length;
    const result = await sweepOrphanCheckpoints({ episodes: runtime.episodes, checkpoints: shortPages(runtime.checkpoints, 2) }, { minAgeSeconds: 0, now: sweepNow });
    expect(result).toEqual({ examined: total, deleted: keys, cursor: null });
    expect(await remaining()).toEqual([]);
  });

  it('examines no more than maxObjects over short pages, and the next run continues at its cursor', async () => {
    const keys = await putObjects('gone-episode', 5);
    const checkpoints = shortPages(runtime.checkpoints, 2);
    const first = await sweepOrphanCheckpoints({ episodes: runtime.episodes, checkpoints }, { minAgeSeconds: 0, now: sweepNow, maxObjects: 3 });
    expect(first).toEqual({ examined: 3, deleted: keys.slice(0, 3), cursor: keys[2] });
    const rest = await sweepOrphanCheckpoints({ episodes: runtime.episodes, checkpoints }, { minAgeSeconds: 0, now: sweepNow, cursor: first.cursor });
    expect(rest).toMatchObject({ examined: 2, deleted: keys.slice(3), cursor: null });
  });
});
