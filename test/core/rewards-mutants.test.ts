// Reward rules that mutation testing (npm run mutation -- --area core) found unobserved by the core's tests.
import { freshModelProgress, stepReward, type ModelProgress } from '../../layers/core/src';

function trained(valLosses: number[], generation = 1): ModelProgress {
  const m = freshModelProgress(generation);
  for (const loss of valLosses) {
    m.current_epoch += 1;
    m.train_acc_history.push(0.5);
    m.val_acc_history.push(0.5);
    m.train_loss_history.push(loss);
    m.val_loss_history.push(loss);
    m.lr_history.push(0.001);
  }
  m.best_val_accuracy = valLosses.length > 0 ? 0.5 : 0;
  m.best_val_epoch = valLosses.length > 0 ? 1 : 0;
  return m;
}

const base = { taskId: 'easy_mnist' as const, divergedThisStep: false, submissionScore: null };

describe('reward rules', () => {
  it("adds the submission's grade to the step's total", () => {
    const model = trained([1]);
    const r = stepReward({ ...base, before: model, after: model, epochsRecorded: 0, submissionScore: 0.5 });
    expect(r.submission).toBe(0.5);
    expect(r.total).toBe(0.5);
  });

  it('pays no convergence bonus for a step that recorded no epoch, even when the model was rebuilt with a lower loss', () => {
    const r = stepReward({ ...base, before: trained([2], 1), after: trained([1], 2), epochsRecorded: 0 });
    expect(r.convergence).toBe(0);
  });

  it("pays no convergence bonus on a model's first trained step: there is no earlier val loss to beat", () => {
    const r = stepReward({ ...base, before: trained([]), after: trained([0.5, 0.4]), epochsRecorded: 2 });
    expect(r.convergence).toBe(0);
    expect(r.total).toBe(0.15);
  });

  it('charges no overfitting at a gap of exactly the 0.08 allowance (a term of 0, not -0)', () => {
    const before = trained([1]);
    const after = trained([1, 0.9]);
    after.train_acc_history[1] = 0.197;
    after.val_acc_history[1] = 0.117; // 0.197 - 0.117 is exactly 0.08 in binary too
    const r = stepReward({ ...base, before, after, epochsRecorded: 1 });
    expect(r.overfitting).toBe(0);
    after.train_acc_history[1] = 0.198;
    expect(stepReward({ ...base, before, after, epochsRecorded: 1 }).overfitting).toBeCloseTo(-0.05 * 0.001, 12);
  });

  it("adds the wasted-compute charge to the step's total", () => {
    const losses = Array.from({ length: 12 }, () => 1);
    const after = trained(losses);
    const r = stepReward({ ...base, taskId: 'hard_cifar', before: trained(losses.slice(1)), after, epochsRecorded: 1 });
    expect(r.wasted_compute).toBe(-0.02);
    expect(r.total).toBe(-0.02);
  });
});

