import fixtures from '../fixtures/grade-fixtures.json';
import {
  accuracyScore,
  clampScore,
  gradeEpisode,
  getTask,
  overfittingGap,
  parseGradeInput,
  pythonRound,
  valLossVariance,
  wastedEpochs,
  type GradeInput,
} from '../../layers/core/src';

function metrics(overrides: Partial<GradeInput> & Pick<GradeInput, 'task_id'>): GradeInput {
  return {
    current_epoch: 0,
    best_val_accuracy: 0,
    best_val_epoch: 0,
    train_loss_history: [],
    val_loss_history: [],
    train_acc_history: [],
    val_acc_history: [],
    ...overrides,
  };
}

describe('pythonRound', () => {
  it.each(fixtures.rounding)('rounds $x as Python does', ({ x, round4, round6, round3 }) => {
    expect(pythonRound(x, 4)).toBe(round4);
    expect(pythonRound(x, 6)).toBe(round6);
    expect(pythonRound(x, 3)).toBe(round3);
  });

  it('breaks exact binary ties to even where toFixed rounds up', () => {
    expect(pythonRound(0.03125, 4)).toBe(0.0312);
    expect((0.03125).toFixed(4)).toBe('0.0313');
    expect(pythonRound(0.09375, 4)).toBe(0.0938);
    expect(pythonRound(-0.03125, 4)).toBe(-0.0312);
    expect(pythonRound(2.5, 0)).toBe(2);
  });

  it('passes non-finite values through', () => {
    expect(pythonRound(Number.NaN, 4)).toBeNaN();
    expect(pythonRound(Infinity, 4)).toBe(Infinity);
  });
});

describe('the seed graders', () => {
  it.each(fixtures.cases.map((c, i) => ({ i, ...c })))('case $i agrees with the seed to all decimals', ({ metrics: m, grade }) => {
    expect(gradeEpisode(m as GradeInput)).toEqual(grade);
  });

  it('clamps the accuracy score at both ends', () => {
    const task = getTask('easy_mnist');
    expect(accuracyScore(0.5, task)).toBe(0.0001);
    expect(accuracyScore(0.88, task)).toBe(0.0001);
    expect(accuracyScore(0.99, task)).toBe(0.9999);
    expect(clampScore(-3)).toBe(0.0001);
    expect(clampScore(7)).toBe(0.9999);
  });

  it('easy_mnist is the accuracy score alone', () => {
    expect(gradeEpisode(metrics({ task_id: 'easy_mnist', current_epoch: 3, best_val_accuracy: 0.959, best_val_epoch: 2 }))).toEqual({
      score: 0.8316,
      details: { val_accuracy: 0.959, accuracy_score: 0.8316 },
    });
  });

  it('medium_fashion weighs accuracy 0.6 and generalisation 0.4, from the last epoch gap', () => {
    const g = gradeEpisode(
      metrics({
        task_id: 'medium_fashion',
        current_epoch: 2,
        best_val_accuracy: 0.9,
        best_val_epoch: 1,
        train_acc_history: [0.9, 1.0],
        val_acc_history: [0.9, 0.88],
        train_loss_history: [0.3, 0.01],
        val_loss_history: [0.3, 0.4],
      }),
    );
    expect(g.details).toEqual({ val_accuracy: 0.9, overfitting_gap: 0.12, accuracy_score: 0.9999, generalization_score: 0.0001 });
    expect(g.score).toBe(pythonRound(0.6 * 0.9999 + 0.4 * 0.0001, 4));
  });

  it('medium_fashion with no epoch has a zero gap and full generalisation', () => {
    const g = gradeEpisode(metrics({ task_id: 'medium_fashion' }));
    expect(g).toEqual({
      score: pythonRound(0.6 * 0.0001 + 0.4 * 0.9999, 4),
      details: { val_accuracy: 0, overfitting_gap: 0, accuracy_score: 0.0001, generalization_score: 0.9999 },
    });
  });

  it('hard_cifar weighs accuracy, efficiency (wasted epochs over 60) and stability (variance of the last 10 val losses)', () => {
    const valLosses = [2, 1.5, 1.2, 1.0, 0.9, 0.85, 0.8, 0.82, 0.81, 0.8, 0.79, 0.8];
    const g = gradeEpisode(
      metrics({
        task_id: 'hard_cifar',
        current_epoch: 12,
        best_val_accuracy: 0.6,
        best_val_epoch: 6,
        val_loss_history: valLosses,
        train_loss_history: valLosses,
        train_acc_history: valLosses.map(() => 0.5),
        val_acc_history: valLosses.map(() => 0.5),
      }),
    );
    const variance = valLossVariance(valLosses);
    expect(g.details.wasted_epochs).toBe(6);
    expect(g.details.efficiency_score).toBe(pythonRound(1 - 6 / 60, 4));
    expect(g.details.loss_variance).toBe(pythonRound(variance, 6));
    expect(g.details.stability_score).toBe(pythonRound(clampScore(1 - variance / 0.01), 4));
    expect(g.details.stability_score).toBe(0.0001);
  });

  it('hard_cifar with no epoch wastes nothing and has zero variance', () => {
    const g = gradeEpisode(metrics({ task_id: 'hard_cifar' }));
    expect(g.details).toEqual({
      val_accuracy: 0,
      wasted_epochs: 0,
      loss_variance: 0,
      accuracy_score: 0.0001,
      efficiency_score: 0.9999,
      stability_score: 0.9999,
    });
    expect(g.score).toBe(pythonRound(0.5 * 0.0001 + 0.3 * 0.9999 + 0.2 * 0.9999, 4));
  });

  it('derives its inputs as the contract says', () => {
    expect(overfittingGap({ train_acc_history: [], val_acc_history: [] })).toBe(0);
    // One history without an epoch is no gap either (a damaged record), not NaN.
    expect(overfittingGap({ train_acc_history: [], val_acc_history: [0.8] })).toBe(0);
    expect(overfittingGap({ train_acc_history: [0.9], val_acc_history: [] })).toBe(0);
    expect(wastedEpochs({ current_epoch: 9, best_val_epoch: 0 })).toBe(0);
    expect(wastedEpochs({ current_epoch: 9, best_val_epoch: 4 })).toBe(5);
    expect(valLossVariance([0.5])).toBe(0);
    expect(valLossVariance([1, 3])).toBe(1);
  });
});

describe('parseGradeInput', () => {
  const valid = { ...metrics({ task_id: 'easy_mnist' }) };

  it('accepts stored metrics', () => {
    expect(parseGradeInput(valid)).toEqual(valid);
  });

  it.each([
    [{ ...valid, task_id: 'nope' }, 'task_id'],
    [{ ...valid, best_val_accuracy: 1.5 }, 'best_val_accuracy'],
    [{ ...valid, current_epoch: -1 }, 'current_epoch'],
    [{ ...valid, val_loss_history: ['x'] }, 'val_loss_history.0'],
    [{ ...valid, extra: 1 }, 'extra'],
    [{ ...valid, best_val_epoch: 3 }, 'best_val_epoch'],
  ])('names the bad field (%#)', (input, field) => {
    expect(() => parseGradeInput(input)).toThrow(field);
  });
});
