import { MAX_EPOCHS_PER_CALL, MAX_STEPS, getTask, type ToolCall } from '../../layers/core/src';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { DEFAULT_MAX_ITEM_BYTES } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, testRuntime } from '../storage/helpers';
import { instrumentedFactory } from './helpers';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

/** The largest request id the service accepts. */
const requestId = (i: number) => `${String(i).padStart(3, '0')}-${'r'.repeat(124)}`;

describe('the episode item stays far below the 400 KB limit', () => {
  it('a maximal episode: 15 steps, 100 epochs, large logged arguments, every result stored', async () => {
    const service = new StoredEpisodeService({
      episodes: runtime.episodes,
      checkpoints: runtime.checkpoints,
      trainers: instrumentedFactory(),
      clock: steppingClock(),
    });
    const task = getTask('easy_mnist');
    expect(task.max_epochs).toBe(100);
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'tenant-size', taskId: 'easy_mnist' });
    const calls: ToolCall[] = [
      {
        tool: 'configure_training',
        arguments: {
          optimizer: 'adamw',
          learning_rate: 0.000912345678901,
          lr_schedule: 'cosine',
          warmup_epochs: 3,
          batch_size: 64,
          weight_decay: 0.000123456789,
          dropout: 0.123456789,
          augmentation: true,
          augmentation_strength: 0.987654321,
        },
      },
    ];
    for (let i = 0; i < task.max_epochs / MAX_EPOCHS_PER_CALL; i++) calls.push({ tool: 'run_epochs', arguments: { num_epochs: MAX_EPOCHS_PER_CALL } });
    // Invalid calls whose arguments are just under the core's 2048-character logging limit:
    // they are logged verbatim in the record, and their values are echoed in the error message.
    while (calls.length < MAX_STEPS) calls.push({ tool: 'adjust_learning_rate', arguments: { new_lr: 'x'.repeat(2020) } });
    for (const [i, call] of calls.entries()) await service.step({ tenant: 'tenant-size', episodeId, call, requestId: requestId(i) });

    const stored = (await runtime.episodes.get('tenant-size', episodeId))!;
    expect(stored.record.step_count).toBe(MAX_STEPS);
    expect(stored.record.budget_used).toBe(100);
    expect(stored.record.model.val_loss_history).toHaveLength(100);
    expect(stored.record.status).toBe('auto_submitted');
    expect(Object.keys(stored.results)).toHaveLength(MAX_STEPS);
    const bytes = runtime.episodes.prepare(stored).estimatedBytes;
    // Measured about 61 KB (the record 49 KB, the 15 gzip-compressed results 11 KB):
    // under a sixth of DynamoDB's limit, a fifth of the safety limit.
    expect(bytes).toBeLessThan(100 * 1024);
    expect(bytes).toBeLessThan(DEFAULT_MAX_ITEM_BYTES / 2);
  });
});
