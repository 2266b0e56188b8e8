import { taskIds } from '../../layers/core/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import {
  baselinePolicy,
  defaultPolicy,
  gradeIfSubmittedNow,
  InProcessEnvironment,
  llmPolicy,
  playEpisode,
  randomPolicy,
  type EpisodeResult,
  type Policy,
} from '../../layers/agent/src';
import { call, FakeOpenAiServer } from './helpers/fake-openai-server';

const env = () => new InProcessEnvironment(formulaTrainerFactory);
const play = (policy: Policy, taskId: string, seed?: number) => playEpisode({ environment: env(), policy, taskId, seed });

function expectCompleted(result: EpisodeResult) {
  expect(result.grade).not.toBeNull();
  expect(result.grade!.score).toBeGreaterThanOrEqual(0.0001);
  expect(result.grade!.score).toBeLessThanOrEqual(0.9999);
  expect(['submitted', 'auto_submitted']).toContain(result.status);
  expect(result.steps).toBeLessThanOrEqual(15);
  expect(result.history.at(-1)!.outcome.done).toBe(true);
}

describe.each([...taskIds()])('on %s with the formula trainer', (taskId) => {
  it('the baseline completes the episode with explained, error-free steps and beats the default configuration', async () => {
    const baseline = await play(baselinePolicy(), taskId);
    const reference = await play(defaultPolicy, taskId);
    expectCompleted(baseline);
    expectCompleted(reference);
    expect(baseline.status).toBe('submitted');
    expect(baseline.history.every((s) => s.outcome.error === null)).toBe(true);
    expect(baseline.history.every((s) => typeof s.reason === 'string' && s.reason.length > 0)).toBe(true);
    // It never spends a step on a status query: every step returns the observation.
    expect(baseline.history.some((s) => s.call.tool === 'get_training_status')).toBe(false);
    expect(reference.epochs_used).toBe(reference.history[0].observation.max_epochs);
    expect(baseline.grade!.score).toBeGreaterThan(reference.grade!.score);
  });

  it('the random policy completes the episode with valid arguments, the same way for the same seed', async () => {
    const first = await play(randomPolicy({ seed: 7 }), taskId);
    const second = await play(randomPolicy({ seed: 7 }), taskId);
    expectCompleted(first);
    expect(second.history.map((s) => s.call)).toEqual(first.history.map((s) => s.call));
    expect(second.grade).toEqual(first.grade);
    // Valid arguments: the only errors are calls made before configuring.
    for (const s of first.history) if (s.outcome.error) expect(s.outcome.error.code).toBe('not_configured');
  });

  it('the llm policy completes the episode against a scripted chat API', async () => {
    const fake = new FakeOpenAiServer([
      { content: 'Configuring.', tool_calls: [call('configure_training', { optimizer: 'adamw', learning_rate: 0.002, dropout: 0.2 })] },
      { tool_calls: [call('run_epochs', { num_epochs: 10 })] },
      { tool_calls: [call('run_epochs', { num_epochs: 10 })] },
      { tool_calls: [call('submit_model')] },
    ]);
    const baseURL = await fake.start();
    try {
      const result = await play(llmPolicy({ model: 'fake-model', baseURL, apiKey: 'test-key', maxRetries: 0 }), taskId);
      expectCompleted(result);
      expect(result.status).toBe('submitted');
      expect(result.history.map((s) => s.call.tool)).toEqual(['configure_training', 'run_epochs', 'run_epochs', 'submit_model']);
      expect(result.epochs_used).toBe(20);
      expect(fake.requests).toHaveLength(4);
    } finally {
      await fake.stop();
    }
  });
});

describe('the baseline, step by step', () => {
  it('submits on medium_fashion before the budget is spent and on hard_cifar near its best epoch', async () => {
    const medium = await play(baselinePolicy(), 'medium_fashion');
    expect(medium.epochs_used).toBeLessThan(80);
    const hard = await play(baselinePolicy(), 'hard_cifar');
    expect(hard.grade!.details.wasted_epochs).toBeLessThanOrEqual(5);
    expect(hard.history[0].call).toMatchObject({ tool: 'configure_training', arguments: { lr_schedule: 'cosine' } });
  });

  it('trains long on easy_mnist, where extra epochs cost nothing, with augmentation', async () => {
    const easy = await play(baselinePolicy(), 'easy_mnist');
    expect(easy.history[0].call.arguments).toMatchObject({ augmentation: true });
    expect(easy.epochs_used).toBeGreaterThanOrEqual(60);
  });

  it('rebuilds a diverged model with a smaller learning rate and a different dropout', async () => {
    // lr 2 makes the formula trainer diverge (a loss above 100) in the first epoch.
    const result = await play(baselinePolicy({ configs: { hard_cifar: { learning_rate: 2 } } }), 'hard_cifar');
    const calls = result.history.map((s) => s.call);
    expect(result.history[1].observation.is_diverged).toBe(true);
    expect(calls[2]).toMatchObject({ tool: 'configure_training', arguments: { learning_rate: 0.2, dropout: 0.35 } });
    expect(result.history[2].outcome.data.model_rebuilt).toBe(true);
    // The formula trainer diverges at lr ≥ 1 only: the rebuilt model trains on.
    expect(result.history[3].observation.is_diverged).toBe(false);
    expect(result.grade!.score).toBeGreaterThan(0.5);
  });

  it('always submits on the last step', async () => {
    const result = await play(baselinePolicy(), 'medium_fashion');
    const last = result.history.at(-1)!;
    expect(last.call.tool).toBe('submit_model');
    expect(last.outcome.grade).toEqual(result.grade);
  });

  it('estimates the grade it would get by submitting now as the grader computes it', async () => {
    for (const taskId of taskIds()) {
      const result = await play(baselinePolicy(), taskId);
      const beforeSubmit = result.history.at(-2)!.observation;
      expect(gradeIfSubmittedNow(beforeSubmit)!.score).toBeCloseTo(result.grade!.score, 3);
    }
  });
});
