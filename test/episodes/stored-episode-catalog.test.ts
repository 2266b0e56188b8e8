import { EpisodeServiceError, StoredEpisodeCatalog } from '../../layers/episodes/src';
import type { EpisodeStore } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';

/** What the catalog (create, list) refuses, and how the refusal reads to a caller. */

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

function catalog(options: { episodes?: EpisodeStore; newId?: () => string } = {}) {
  return new StoredEpisodeCatalog({
    episodes: options.episodes ?? runtime.episodes,
    clock: steppingClock(),
    newId: options.newId ?? sequentialIds(`c${Math.random().toString(36).slice(2, 8)}`),
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('StoredEpisodeCatalog', () => {
  it('accepts list limits from 1 to 100 and refuses others with a message and the limit field', async () => {
    const tenant = `lim${Math.random().toString(36).slice(2, 8)}`;
    const episodes = catalog();
    for (let seed = 0; seed < 2; seed++) await episodes.createEpisode({ tenant, taskId: 'easy_mnist', seed });
    expect((await episodes.listEpisodes(tenant, { limit: 1 })).items).toHaveLength(1);
    expect((await episodes.listEpisodes(tenant, { limit: 100 })).items).toHaveLength(2);
    for (const limit of [0, 101, 2.5]) {
      const error = await rejection(episodes.listEpisodes(tenant, { limit }));
      expect(error).toBeInstanceOf(EpisodeServiceError);
      expect(error).toMatchObject({ code: 'invalid_request', message: `limit must be an integer from 1 to 100, got ${limit}.`, details: { field: 'limit' } });
    }
  });

  it('refuses a cursor it did not hand out as invalid_request on the cursor field', async () => {
    const error = await rejection(catalog().listEpisodes('tenant-a', { cursor: 'garbage' }));
    expect(error).toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({ code: 'invalid_request', details: { field: 'cursor' } });
    expect((error as Error).message).toMatch(/cursor/);
  });

  it('lets a listing fault that is not a bad cursor through unchanged', async () => {
    const failing = new Proxy(runtime.episodes, {
      get(target, name, receiver) {
        if (name === 'listByTenant') return () => Promise.reject(new Error('table unavailable'));
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const error = await rejection(catalog({ episodes: failing }).listEpisodes('tenant-a'));
    expect(error).not.toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({ message: 'table unavailable' });
  });

  it('answers an episode id that is already taken with conflict, and keeps the first episode', async () => {
    const tenant = `dup${Math.random().toString(36).slice(2, 8)}`;
    const episodes = catalog({ newId: () => 'always-the-same' });
    const first = await episodes.createEpisode({ tenant, taskId: 'easy_mnist', seed: 1 });
    const error = await rejection(episodes.createEpisode({ tenant, taskId: 'easy_mnist', seed: 2 }));
    expect(error).toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({ code: 'conflict', message: 'Episode always-the-same already exists.' });
    expect((await episodes.getEpisode(tenant, first.episode_id)).seed).toBe(1);
  });

  it('lets a store fault on create through unchanged', async () => {
    const failing = new Proxy(runtime.episodes, {
      get(target, name, receiver) {
        if (name === 'insert') return () => Promise.reject(new Error('table unavailable'));
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const error = await rejection(catalog({ episodes: failing }).createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist' }));
    expect(error).not.toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({ message: 'table unavailable' });
  });

  it("refuses the core's invalid arguments as invalid_request with the core's details, and lets other faults through", async () => {
    const badSeed = await rejection(catalog().createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist', seed: -1 }));
    expect(badSeed).toBeInstanceOf(EpisodeServiceError);
    expect(badSeed).toMatchObject({ code: 'invalid_request', details: { code: 'invalid_arguments', field: 'seed' } });
    expect((badSeed as Error).message).toMatch(/^seed must be an integer/);
    // An agent label whose reading throws: not a refusal of the input, so not dressed up as one.
    const agent = Object.defineProperty({ policy: '' }, 'policy', {
      enumerable: true,
      get: () => {
        throw new Error('label unreadable');
      },
    });
    const fault = await rejection(catalog().createEpisode({ tenant: 'tenant-a', taskId: 'easy_mnist', agent }));
    expect(fault).not.toBeInstanceOf(EpisodeServiceError);
    expect(fault).toMatchObject({ message: 'label unreadable' });
  });
});
