import type { StepResult, ToolCall } from '../../layers/core/src';
import type { StepView } from '../../layers/episodes/src/episode-service';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, tempDirs } from '../storage/helpers';
import { configure, instrumentedFactory, playInMemory, run, status, submitCall } from './helpers';

const dirs = tempDirs('ml-trainer-restart');
afterAll(() => dirs.cleanup());

const CALLS: ToolCall[] = [
  configure({ optimizer: 'sgd', learning_rate: 0.0007, lr_schedule: 'cosine' }),
  run(7),
  { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.4 } },
  run(6),
  status,
  run(5),
  submitCall,
];

function serviceOn(runtime: LocalRuntime) {
  const trainers = instrumentedFactory();
  return {
    trainers,
    service: new StoredEpisodeService({
      episodes: runtime.episodes,
      checkpoints: runtime.checkpoints,
      trainers,
      clock: steppingClock(),
      newId: sequentialIds(`r${Math.random().toString(36).slice(2, 8)}`),
    }),
  };
}

function comparable(view: StepView) {
  return JSON.parse(JSON.stringify({ step: view.step, tool: view.tool, data: view.data, error: view.error, reward: view.reward, done: view.done, grade: view.grade }));
}

function expected(result: StepResult) {
  const { record, reward_breakdown: _b, ...rest } = result;
  return JSON.parse(JSON.stringify({ step: record.step_count, ...rest }));
}

describe('the local runtime restarted on its data directory', () => {
  it('continues an episode identically (persisted dynalite + s3rver)', async () => {
    const dataDir = await dirs.make();
    const reference = await playInMemory('easy_mnist', CALLS);
    const views: StepView[] = [];

    const first = await startLocalRuntime({ dataDir });
    let episodeId: string;
    let firstReplay: StepView;
    try {
      const { service } = serviceOn(first);
      episodeId = (await service.createEpisode({ tenant: 'tenant-r', taskId: 'easy_mnist' })).episode_id;
      for (const [i, call] of CALLS.slice(0, 3).entries()) {
        views.push(await service.step({ tenant: 'tenant-r', episodeId, call, requestId: `step-${i}` }));
      }
      firstReplay = views[1];
    } finally {
      await first.close();
    }

    const second = await startLocalRuntime({ dataDir });
    try {
      const { service, trainers } = serviceOn(second);
      // Request ids stored before the restart still replay without training.
      expect(await service.step({ tenant: 'tenant-r', episodeId, call: CALLS[1], requestId: 'step-1' })).toEqual({ ...firstReplay, replayed: true });
      expect(trainers.counts.trainEpoch).toBe(0);
      for (const [i, call] of CALLS.slice(3).entries()) {
        views.push(await service.step({ tenant: 'tenant-r', episodeId, call, requestId: `step-${i + 3}` }));
      }
      expect(views.map(comparable)).toEqual(reference.results.map(expected));
      const episode = await service.getEpisode('tenant-r', episodeId);
      expect(episode.record).toEqual(reference.record);
      expect(episode).toMatchObject({ status: 'submitted', version: CALLS.length, usage: { steps: CALLS.length, epochs_trained: 18 } });
      expect((await service.listEpisodes('tenant-r')).items.map((e) => e.episode_id)).toEqual([episodeId]);
      const item = await second.episodes.get('tenant-r', episodeId);
      expect(Buffer.from(await second.checkpoints.getCheckpoint(item!.checkpoint!)).equals(Buffer.from(reference.checkpoint))).toBe(true);
    } finally {
      await second.close();
    }
  });
});
