import { rmSync } from 'node:fs';
import { baselinePolicy, InProcessEnvironment, runScheduled, summarizeTask } from '../../layers/agent/src';
import { evalEpisodeRunner } from '../../cli/eval-runner';
import { tempDir, writeTinyIdx } from '../datasets/helpers/tiny-datasets';
import { tinyIdxTrainerFactory } from '../datasets/helpers/tiny-trainers';

/** One small eval with real tfjs training (tiny MNIST files): what the formula trainer cannot show. */
describe('eval with real training', () => {
  const dataDir = tempDir('mlt-eval-real-');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('plays two seeds two at a time and keeps each episode\'s score, curves and measured training seconds', async () => {
    writeTinyIdx(dataDir, 'mnist', false);
    const environment = new InProcessEnvironment(tinyIdxTrainerFactory(dataDir));
    const epochsSeen = new Map<number, number>();
    const outcome = await runScheduled({
      episodes: [
        { task_id: 'easy_mnist', seed: 1 },
        { task_id: 'easy_mnist', seed: 2 },
      ],
      concurrency: 2,
      run: evalEpisodeRunner({ environment, policy: baselinePolicy(), agent: { policy: 'baseline', version: 'real' } }),
      onEvent: (e) => {
        if (e.type === 'epoch') epochsSeen.set(e.episode.seed, (epochsSeen.get(e.episode.seed) ?? 0) + 1);
      },
    });
    const episodes = outcome.results.map((r) => r.result.episode);
    expect(episodes).toHaveLength(2);
    for (const e of episodes) {
      expect(e.error).toBeUndefined();
      expect(e.score).toEqual(expect.any(Number));
      expect(e.epochs_used).toBeGreaterThan(0);
      expect(epochsSeen.get(e.seed)).toBe(e.epochs_used);
      expect(e.training_seconds).toBeGreaterThan(0);
      expect(e.val_accuracy.length).toBeGreaterThan(0);
      expect(e.val_accuracy.every((a) => a >= 0 && a <= 1)).toBe(true);
    }
    const record = outcome.results[0].result.record!;
    expect(record.agent).toEqual({ policy: 'baseline', version: 'real' });
    const summary = summarizeTask('easy_mnist', episodes);
    expect(summary.scored).toBe(2);
    expect(summary.score.low).toBeLessThanOrEqual(summary.score.mean);
  }, 180_000);
});
