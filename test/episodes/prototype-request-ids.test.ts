import { StoredEpisodeService } from '../../layers/episodes/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, status } from './helpers';

/**
 * A request_id is any key-safe id, so it may spell a member of Object.prototype. Looking it up
 * in the stored results must see only what was stored: a fresh id executes, a repeated one replays.
 * (Found by the hostile-input suite: "constructor" was refused as already used.)
 */
let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'])('request_id %s executes once, then replays', async (requestId) => {
  const trainers = instrumentedFactory();
  const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers, logger: { warn: () => undefined } });
  const episode = await service.createEpisode({ tenant: 'tenant-proto', taskId: 'easy_mnist' });
  const first = await service.step({ tenant: 'tenant-proto', episodeId: episode.episode_id, call: configure(), requestId });
  expect([first.step, first.replayed, first.error]).toEqual([1, false, null]);
  const again = await service.step({ tenant: 'tenant-proto', episodeId: episode.episode_id, call: configure(), requestId });
  expect({ ...again, replayed: false }).toEqual(first);
  expect(again.replayed).toBe(true);
  const other = await service.step({ tenant: 'tenant-proto', episodeId: episode.episode_id, call: status, requestId: `${requestId}2` });
  expect(other.step).toBe(2);
});
