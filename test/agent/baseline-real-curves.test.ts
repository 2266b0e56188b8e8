import { baselinePolicy, InProcessEnvironment, playEpisode } from '../../layers/agent/src';
import { curve, replayTrainerFactory } from './helpers/replay-trainer';

// The first epochs of medium_fashion trained for real (tfjs, seed 123) with the baseline's
// configuration (AdamW 1e-3, dropout 0.3, augmentation 0.5): [train_acc, val_acc, val_loss].
const MEDIUM_REAL = curve([
  [0.6535, 0.7833, 0.5682],
  [0.7871, 0.8227, 0.4816],
  [0.816, 0.8333, 0.4346],
  [0.8377, 0.8407, 0.4121],
  [0.8509, 0.8493, 0.4086],
  [0.8518, 0.8447, 0.3888],
  [0.8671, 0.8647, 0.3658],
  [0.8743, 0.8627, 0.3585],
  [0.8822, 0.8707, 0.3759],
  [0.8823, 0.868, 0.365],
  [0.8894, 0.8773, 0.3562],
  [0.8902, 0.868, 0.358],
  [0.8968, 0.8727, 0.3527],
  [0.9011, 0.874, 0.3651],
  [0.9114, 0.8827, 0.3302],
  [0.9129, 0.876, 0.3511],
  [0.9222, 0.8733, 0.3852],
  [0.9182, 0.8733, 0.3635],
  [0.9197, 0.8753, 0.3579],
  [0.9249, 0.8813, 0.3452],
]);

const play = (taskId: string, history: ReturnType<typeof curve>) =>
  playEpisode({ environment: new InProcessEnvironment(replayTrainerFactory(history)), policy: baselinePolicy(), taskId });

describe('the baseline on curves shaped like real training', () => {
  it('medium: trains through the ramp-up, then submits the first epoch that meets the targets', async () => {
    const result = await play('medium_fashion', MEDIUM_REAL);
    expect(result.history.filter((s) => s.call.tool === 'run_epochs').map((s) => s.call.arguments)).toEqual([
      { num_epochs: 4 },
      { num_epochs: 2 },
      { num_epochs: 1 },
    ]);
    expect(result.epochs_used).toBe(7);
    expect(result.grade!.score).toBeCloseTo(0.8508, 4);
    expect(result.history.at(-1)!.reason).toContain("as much as the task's targets give");
  });

  it('medium: stops once the gap grows faster than accuracy, long before the budget', async () => {
    // Val accuracy stalls at 0.85 (below the target) while train accuracy races ahead from epoch 5 on.
    const rows: [number, number, number][] = [];
    for (let e = 1; e <= 40; e++) {
      const val = Math.min(0.85, 0.76 + 0.02 * e);
      const train = e <= 4 ? val - 0.02 : Math.min(1, val + 0.02 * (e - 4));
      rows.push([train, val, 0.5 - 0.01 * e]);
    }
    const result = await play('medium_fashion', curve(rows));
    expect(result.epochs_used).toBe(6);
    expect(result.history.at(-1)!.call.tool).toBe('submit_model');
    expect(result.history.at(-1)!.reason).toContain('The gap now grows faster than accuracy');
  });

  it('hard: a model stuck at chance is rebuilt with a third of the learning rate', async () => {
    const stuck = curve(Array.from({ length: 60 }, () => [0.1, 0.1, 2.3] as [number, number, number])).map((m) => ({ ...m, train_loss: 2.3 }));
    const result = await play('hard_cifar', stuck);
    expect(result.history[2].call).toMatchObject({ tool: 'configure_training', arguments: { learning_rate: 0.000667, dropout: 0.35 } });
    expect(result.history[2].reason).toContain('near chance');
  });

  it('hard: submits a few epochs after the best one once the schedule anneals', async () => {
    // Val accuracy rises until epoch 47, then stays below its best.
    const rows: [number, number, number][] = [];
    for (let e = 1; e <= 60; e++) {
      const val = e <= 47 ? 0.4 + 0.006 * e : 0.68 - 0.001 * (e - 47);
      rows.push([Math.min(1, val + 0.005 * e), val, 1.6 - 0.015 * Math.min(e, 47)]);
    }
    const result = await play('hard_cifar', curve(rows));
    expect(result.history.filter((s) => s.call.tool === 'run_epochs').map((s) => s.call.arguments)).toEqual([
      { num_epochs: 10 },
      { num_epochs: 20 },
      { num_epochs: 10 },
      { num_epochs: 5 },
      { num_epochs: 5 },
    ]);
    expect(result.grade!.details).toMatchObject({ wasted_epochs: 3, val_accuracy: 0.682 });
    expect(result.history.at(-1)!.reason).toContain('stopped improving');
  });
});
