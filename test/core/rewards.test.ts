import { freshModelProgress, pythonRound, stepReward, type ModelProgress } from '../../layers/core/src';
import { configure, play, run, status } from './episode-helpers';

function progress(epochs: Array<[trainAcc: number, valAcc: number, valLoss: number]>, generation = 1): ModelProgress {
  const m = freshModelProgress(generation);
  epochs.forEach(([trainAcc, valAcc, valLoss], i) => {
    m.current_epoch += 1;
    m.train_acc_history.push(trainAcc);
    m.val_acc_history.push(valAcc);
    m.val_loss_history.push(valLoss);
    m.train_loss_history.push(valLoss);
    m.lr_history.push(0.001);
    if (valAcc > m.best_val_accuracy) {
      m.best_val_accuracy = valAcc;
      m.best_val_epoch = i + 1;
    }
  });
  return m;
}

const base = { taskId: 'easy_mnist' as const, divergedThisStep: false, submissionScore: null };

describe('reward terms', () => {
  it('progress: 0.3 × the rise of the best val accuracy', () => {
    const before = progress([[0.8, 0.7, 1]]);
    const after = progress([[0.8, 0.7, 1], [0.85, 0.8, 1.2]]);
    const r = stepReward({ ...base, before, after, epochsRecorded: 1 });
    expect(r.progress).toBeCloseTo(0.03, 12);
    expect(r.convergence).toBe(0);
    expect(r.total).toBe(pythonRound(0.3 * (0.8 - 0.7), 4));
  });

  it('no progress reward when the best did not rise', () => {
    const before = progress([[0.8, 0.9, 1]]);
    const after = progress([[0.8, 0.9, 1], [0.8, 0.85, 0.9]]);
    expect(stepReward({ ...base, before, after, epochsRecorded: 1 }).progress).toBe(0);
  });

  it('convergence: +0.05 when the step trained and the last val loss fell below the one before the step', () => {
    const before = progress([[0.8, 0.9, 1]]);
    const after = progress([[0.8, 0.9, 1], [0.8, 0.85, 0.9]]);
    expect(stepReward({ ...base, before, after, epochsRecorded: 1 }).convergence).toBe(0.05);
  });

  it('convergence is not paid on an exact tie: the last val loss must be below the one before the step', () => {
    const before = progress([[0.8, 0.9, 0.5]]);
    const tie = progress([[0.8, 0.9, 0.5], [0.8, 0.9, 0.5]]);
    expect(stepReward({ ...base, before, after: tie, epochsRecorded: 1 }).convergence).toBe(0);
    // Only the step's last epoch counts: a lower val loss on the way back to a tie earns nothing.
    const dipThenTie = progress([[0.8, 0.9, 0.5], [0.8, 0.9, 0.4], [0.8, 0.9, 0.5]]);
    expect(stepReward({ ...base, before, after: dipThenTie, epochsRecorded: 2 }).convergence).toBe(0);
  });

  it("convergence is not paid against another model's val loss (a new generation)", () => {
    const before = progress([[0.8, 0.9, 1]], 1);
    const rebuilt = progress([[0.8, 0.9, 0.9]], 2);
    expect(stepReward({ ...base, before, after: rebuilt, epochsRecorded: 1 }).convergence).toBe(0);
  });

  it('convergence is not paid to a step that trained nothing', () => {
    const m = progress([[0.8, 0.9, 1], [0.8, 0.85, 0.9]]);
    expect(stepReward({ ...base, before: m, after: m, epochsRecorded: 0 }).convergence).toBe(0);
  });

  it('convergence is not paid for the first epochs of a model (no val loss before the step)', () => {
    const after = progress([[0.8, 0.9, 1]]);
    expect(stepReward({ ...base, before: freshModelProgress(1), after, epochsRecorded: 1 }).convergence).toBe(0);
  });

  it('divergence: −0.2 on the step that diverged', () => {
    const m = progress([[0.8, 0.9, 1]]);
    expect(stepReward({ ...base, before: m, after: m, epochsRecorded: 0, divergedThisStep: true }).divergence).toBe(-0.2);
  });

  it('overfitting: −0.05 × (gap − 0.08) after a step that trained, when the gap exceeds 0.08', () => {
    const before = progress([[0.8, 0.8, 1]]);
    const after = progress([[0.8, 0.8, 1], [1.0, 0.82, 1.1]]);
    const r = stepReward({ ...base, before, after, epochsRecorded: 1 });
    expect(r.overfitting).toBeCloseTo(-0.05 * (0.18 - 0.08), 12);
    const small = progress([[0.8, 0.8, 1], [0.88, 0.81, 1.1]]);
    expect(stepReward({ ...base, before, after: small, epochsRecorded: 1 }).overfitting).toBe(0);
    expect(stepReward({ ...base, before: after, after, epochsRecorded: 0 }).overfitting).toBe(0);
  });

  it('wasted compute: −0.02 on hard_cifar only, after a step that trained, beyond 10 wasted epochs', () => {
    const epochs: Array<[number, number, number]> = [[0.5, 0.6, 1]];
    for (let i = 0; i < 11; i++) epochs.push([0.5, 0.55, 1]);
    const after = progress(epochs);
    const before = progress(epochs.slice(0, -1));
    expect(stepReward({ ...base, taskId: 'hard_cifar', before, after, epochsRecorded: 1 }).wasted_compute).toBe(-0.02);
    expect(stepReward({ ...base, taskId: 'medium_fashion', before, after, epochsRecorded: 1 }).wasted_compute).toBe(0);
    expect(stepReward({ ...base, taskId: 'hard_cifar', before: after, after, epochsRecorded: 0 }).wasted_compute).toBe(0);
    const tenWasted = progress(epochs.slice(0, -1));
    expect(stepReward({ ...base, taskId: 'hard_cifar', before, after: tenWasted, epochsRecorded: 1 }).wasted_compute).toBe(0);
  });

  it('submission adds the score, and the total is rounded to 4 decimals', () => {
    const m = progress([[0.8, 0.9, 1]]);
    const r = stepReward({ ...base, before: m, after: m, epochsRecorded: 0, submissionScore: 0.83163 });
    expect(r.submission).toBe(0.83163);
    expect(r.total).toBe(0.8316);
  });
});

describe('rewards through the state machine', () => {
  it('a status query after training earns no convergence reward (the first implementation paid it again)', async () => {
    const { results } = await play('easy_mnist', [configure(), run(2), run(2), status, status]);
    expect(results[2].reward_breakdown.convergence).toBe(0.05);
    expect(results[3].reward).toBe(0);
    expect(results[4].reward).toBe(0);
  });

  it('the configure step itself earns nothing, even when it resets the best accuracy', async () => {
    const { results } = await play('easy_mnist', [configure(), run(3), configure({ dropout: 0.5 })]);
    expect(results[2].reward).toBe(0);
    expect(results[0].reward).toBe(0);
  });

  it('total_reward is the rounded running sum', async () => {
    const { results, record } = await play('hard_cifar', [configure(), run(20), run(20), run(10)]);
    expect(results[2].reward_breakdown.wasted_compute + results[3].reward_breakdown.wasted_compute).toBeLessThanOrEqual(0);
    expect(record.total_reward).toBe(pythonRound(results.reduce((s, r) => pythonRound(s + r.reward, 4), 0), 4));
  });
});
