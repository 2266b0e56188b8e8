import { getTaskModule, taskIds, type ToolCall } from '../../layers/core/src';
import { DEFAULT_COST_ASSUMPTIONS, episodeSteps } from '../../layers/cloud/src';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, testRuntime } from '../storage/helpers';
import { instrumentedFactory } from '../episodes/helpers';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

/**
 * The episode item's size in KB (what DynamoDB charges a write by) after each call of a
 * full-budget episode in the cost model's steps, on the formula trainer (the record has the
 * real one's shape). Measured 2026-12-02: easy_mnist 2.4 (configured) to 13.6, medium_fashion
 * 2.4 to 16.6, hard_cifar 2.4 to 12.1 (the submitted item).
 */
async function itemKbPerStep(taskId: string): Promise<number[]> {
  const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: instrumentedFactory(), clock: steppingClock() });
  const tenant = 'tenant-cost';
  const { episode_id: episodeId } = await service.createEpisode({ tenant, taskId });
  const module = getTaskModule(taskId);
  const calls: ToolCall[] = [
    { tool: 'configure_training', arguments: { ...module.baseline.first_config } },
    ...episodeSteps(module).map((n): ToolCall => ({ tool: 'run_epochs', arguments: { num_epochs: n } })),
    { tool: 'submit', arguments: {} },
  ];
  const sizes: number[] = [];
  for (const [i, call] of calls.entries()) {
    await service.step({ tenant, episodeId, call, requestId: `${taskId}-${i}` });
    const stored = (await runtime.episodes.get(tenant, episodeId))!;
    sizes.push(runtime.episodes.prepare(stored).estimatedBytes / 1024);
  }
  return sizes;
}

describe("the cost model's episode item sizes", () => {
  it.each(taskIds().map((id) => [id]))('bound what the store writes in a full-budget %s episode', async (taskId) => {
    const sizes = await itemKbPerStep(taskId);
    const { first, last } = DEFAULT_COST_ASSUMPTIONS.itemKb;
    // The first training step's item is no larger than the model's first size, no item larger than its last.
    expect([taskId, sizes[1]! <= first, Math.max(...sizes) <= last]).toEqual([taskId, true, true]);
    // ...and the model is not far off: the largest item is more than half the model's last size.
    expect([taskId, Math.max(...sizes) > last / 2]).toEqual([taskId, true]);
  });
});
