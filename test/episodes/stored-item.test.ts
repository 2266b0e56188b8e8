import { EpisodeServiceError, StoredEpisodeCatalog } from '../../layers/episodes/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, testRuntime } from '../storage/helpers';

/** Building a stored item: ids the store cannot key are a configuration fault, and only an oversized item is the caller's to fix. */

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('stored items', () => {
  it('refuses an id generator that produces an id the store cannot key, writing nothing', async () => {
    const tenant = `ids${Math.random().toString(36).slice(2, 8)}`;
    const catalog = new StoredEpisodeCatalog({ episodes: runtime.episodes, clock: steppingClock(), newId: () => 'not/a key' });
    const error = await rejection(catalog.createEpisode({ tenant, taskId: 'easy_mnist' }));
    expect(error).not.toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({ message: 'newId produced an id that cannot be stored: "not/a key"' });
    expect((await catalog.listEpisodes(tenant)).items).toEqual([]);
  });

  it('lets a fault of building the item that is not its size through unchanged', async () => {
    const episodes = new Proxy(runtime.episodes, {
      get(target, name, receiver) {
        if (name === 'prepare') {
          return () => {
            throw new Error('serializer broke');
          };
        }
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const catalog = new StoredEpisodeCatalog({ episodes, clock: steppingClock() });
    const error = await rejection(catalog.createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' }));
    expect(error).not.toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({ message: 'serializer broke' });
  });
});
