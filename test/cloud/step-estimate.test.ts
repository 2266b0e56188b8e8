import { CloudConfigError, DEFAULT_STEP_ROUTING, parseSecondsPerEpoch, pricesFromEnv, stepRoutingFromEnv } from '../../layers/cloud/src/config';
import { estimateStep } from '../../layers/cloud/src/step-estimate';
import { createEpisode, trainingConfigSchema } from '../../layers/core/src';
import type { StoredEpisode } from '../../layers/storage/src';

function episode(taskId: string, patch: (e: StoredEpisode) => void = () => undefined): StoredEpisode {
  const e: StoredEpisode = {
    tenant: 't',
    episode_id: 'e',
    version: 0,
    created_at: '2030-01-01T00:00:00.000Z',
    updated_at: '2030-01-01T00:00:00.000Z',
    record: createEpisode(taskId),
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: 'c',
    ended_at: null,
  };
  patch(e);
  return e;
}

const configured = (e: StoredEpisode) => {
  e.record.config = trainingConfigSchema.parse({});
  e.record.schedule = { kind: 'constant', base_lr: 0.001, total_epochs: 60, warmup_epochs: 0, position: 0, anchor: null };
};
const routing = { ...DEFAULT_STEP_ROUTING, overheadMs: 1000, dataLoadMs: 5000 };

describe('step duration estimate', () => {
  it('is the overhead for tools that do not train (and for calls the core rejects)', () => {
    const e = episode('hard_cifar', configured);
    expect(estimateStep(e, { tool: 'get_training_status' }, routing).ms).toBe(1000);
    expect(estimateStep(e, { tool: 'run_epochs', arguments: { num_epochs: 'x' } }, routing)).toMatchObject({ ms: 1000, epochs: 0 });
    expect(estimateStep(episode('hard_cifar'), { tool: 'run_epochs', arguments: { num_epochs: 5 } }, routing)).toMatchObject({ epochs: 0 }); // not configured
  });

  it('counts the epochs the core will train (clamped to 1..20 and to the budget) at the task rate, plus the first data load', () => {
    const e = episode('hard_cifar', configured);
    expect(estimateStep(e, { tool: 'run_epochs', arguments: { num_epochs: 2 } }, routing)).toEqual({ ms: 1000 + 5000 + 2 * 9_500, epochs: 2, secondsPerEpoch: 9.5, basis: 'configured' });
    expect(estimateStep(e, { tool: 'run_epochs', arguments: { num_epochs: 50 } }, routing).epochs).toBe(20);
    expect(estimateStep(e, { tool: 'run_epochs' }, routing).epochs).toBe(10); // the tool's default
    e.record.budget_used = 57;
    expect(estimateStep(e, { tool: 'run_epochs', arguments: { num_epochs: 10 } }, routing).epochs).toBe(3);
  });

  it("uses the episode's own measured rate (with a margin) once it has trained", () => {
    const e = episode('easy_mnist', (x) => {
      configured(x);
      x.usage = { steps: 2, epochs_trained: 4, training_seconds: 8 };
    });
    expect(estimateStep(e, { tool: 'run_epochs', arguments: { num_epochs: 4 } }, routing)).toEqual({ ms: 1000 + 4 * 2.5 * 1000, epochs: 4, secondsPerEpoch: 2.5, basis: 'measured' });
  });
});

describe('cloud configuration from the environment', () => {
  it('reads the routing and prices, with defaults for what is unset', () => {
    const r = stepRoutingFromEnv({ SYNC_STEP_BUDGET_MS: '20000', STEP_SECONDS_PER_EPOCH: 'hard_cifar=30', TRAINING_MEMORY_MB: '8192' });
    expect(r).toMatchObject({ syncBudgetMs: 20000, trainingMemoryMb: 8192, secondsPerEpoch: { easy_mnist: 0.25, medium_fashion: 2.5, hard_cifar: 30 } });
    expect(parseSecondsPerEpoch('{"medium_fashion": 4}').medium_fashion).toBe(4);
    expect(pricesFromEnv({ PRICE_PER_EPISODE_USD: '0.25' })).toEqual({ perEpisodeUsd: 0.25, lambdaGbSecondUsd: 0.0000166667, lambdaRequestUsd: 0.0000002 });
  });

  it('names a malformed variable', () => {
    expect(() => stepRoutingFromEnv({ SYNC_STEP_BUDGET_MS: 'soon' })).toThrow(/SYNC_STEP_BUDGET_MS/);
    expect(() => parseSecondsPerEpoch('imagenet=3')).toThrow(CloudConfigError);
    expect(() => parseSecondsPerEpoch('easy_mnist=-1')).toThrow(/positive/);
    expect(() => pricesFromEnv({ PRICE_LAMBDA_REQUEST_USD: '-1' })).toThrow(/PRICE_LAMBDA_REQUEST_USD/);
  });
});
