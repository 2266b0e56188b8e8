import { compareToReference, modelCostUsd, summarizeTask, type EvalEpisode } from '../../layers/agent/src';

const episode = (seed: number, score: number | null, extra: Partial<EvalEpisode> = {}): EvalEpisode => ({
  task_id: 'easy_mnist',
  seed,
  episode_id: `e${seed}`,
  score,
  status: score === null ? 'failed' : 'submitted',
  epochs_used: 10,
  steps: 4,
  training_seconds: 2,
  model_cost_usd: null,
  val_accuracy: [],
  val_loss: [],
  ...(score === null ? { error: 'boom' } : {}),
  ...extra,
});

describe('eval task summary', () => {
  it('summarises scored episodes and counts failed ones apart', () => {
    const s = summarizeTask('easy_mnist', [
      episode(1, 0.5, { epochs_used: 20, steps: 6, training_seconds: 4 }),
      episode(2, 0.9),
      episode(3, 0.7),
      episode(4, null),
    ]);
    expect(s).toMatchObject({ episodes: 4, scored: 3, failed: 1, median: 0.7, min: 0.5, max: 0.9, mean_steps: 14 / 3, mean_training_seconds: 8 / 3 });
    expect(s.mean_epochs_used).toBeCloseTo(40 / 3, 12);
    expect(s.score.mean).toBeCloseTo(0.7, 12);
    expect(s.mean_model_cost_usd).toBeNull();
    expect(s.prompt_tokens).toBeNull();
  });

  it('training seconds stay unknown where the environment does not report them; model costs and tokens add up', () => {
    const usage = { model: 'm', requests: 2, retries: 0, prompt_tokens: 100, completion_tokens: 10 };
    const s = summarizeTask('easy_mnist', [
      episode(1, 0.5, { training_seconds: null, model_usage: usage, model_cost_usd: 0.01 }),
      episode(2, 0.6, { training_seconds: null, model_usage: usage, model_cost_usd: 0.03 }),
    ]);
    expect(s.mean_training_seconds).toBeNull();
    expect(s.mean_model_cost_usd).toBeCloseTo(0.02, 12);
    expect(s).toMatchObject({ prompt_tokens: 200, completion_tokens: 20 });
  });

  it('compares with a reference over the seeds both scored, paired', () => {
    const own = [episode(1, 0.6), episode(2, 0.8), episode(3, null), episode(4, 0.9)];
    const reference = new Map([
      [1, 0.5],
      [2, 0.7],
      [3, 0.4],
    ]);
    const c = compareToReference('default', own, reference)!;
    expect(c.episodes).toBe(2);
    expect(c.score.mean).toBeCloseTo(0.6, 12);
    expect(c.difference.mean).toBeCloseTo(0.1, 12);
    expect(c.difference.high - c.difference.low).toBeLessThan(1e-9);
    expect(compareToReference('default', own, new Map([[9, 0.1]]))).toBeNull();
  });

  it('prices model usage per million tokens', () => {
    const usage = { model: 'm', requests: 1, retries: 0, prompt_tokens: 1_000_000, completion_tokens: 500_000 };
    expect(modelCostUsd(usage, { input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.6 })).toBeCloseTo(0.45, 12);
    expect(modelCostUsd(usage, undefined)).toBeNull();
    expect(modelCostUsd(undefined, { input_usd_per_mtok: 1, output_usd_per_mtok: 1 })).toBeNull();
  });
});
