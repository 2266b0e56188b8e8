// parseGradeInput (what `ml-trainer grade` and the grade function accept) at its edges: the
// message a user reads, the root of a value that is no object, the best epoch on the current one.
import { CoreError, parseGradeInput, weightedScore, gradeComponent } from '../../layers/core/src';

const valid = {
  task_id: 'easy_mnist',
  current_epoch: 3,
  best_val_accuracy: 0.9,
  best_val_epoch: 3,
  train_loss_history: [1, 0.8, 0.6],
  val_loss_history: [1, 0.9, 0.8],
  train_acc_history: [0.8, 0.85, 0.9],
  val_acc_history: [0.8, 0.85, 0.9],
};

function message(value: unknown): string {
  try {
    parseGradeInput(value);
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    expect(error.code).toBe('invalid_metrics');
    return error.message;
  }
  throw new Error('expected invalid_metrics');
}

describe('parseGradeInput', () => {
  it('accepts the best epoch being the current one', () => {
    expect(parseGradeInput(valid)).toEqual(valid);
  });

  it('refuses a best epoch after the current one, saying so', () => {
    expect(message({ ...valid, best_val_epoch: 4 })).toBe('Invalid trainer metrics: best_val_epoch: best_val_epoch cannot be later than current_epoch');
  });

  it('names the root when the value is not an object, and every bad field by its path', () => {
    expect(message(5)).toMatch(/^Invalid trainer metrics: \(root\): \S/);
    expect(message({ ...valid, val_acc_history: [0.5, 2], current_epoch: -1 })).toMatch(
      /^Invalid trainer metrics: (current_epoch: .+; val_acc_history\.1: .+|val_acc_history\.1: .+; current_epoch: .+)$/,
    );
  });
});

describe('weightedScore', () => {
  it('sums weight × sub-score in order, a missing sub-score counting 0', () => {
    const components = [gradeComponent('accuracy_score', 0.5), gradeComponent('efficiency_score', 0.3), gradeComponent('stability_score', 0.2)];
    expect(weightedScore(components, { accuracy_score: 0.8, efficiency_score: 0.5, stability_score: 1 })).toBe(0.5 * 0.8 + 0.3 * 0.5 + 0.2 * 1);
    expect(weightedScore(components, { accuracy_score: 0.8 })).toBe(0.4);
    expect(weightedScore([], { accuracy_score: 0.8 })).toBe(0);
  });

  it('labels each component as reports show it', () => {
    expect(gradeComponent('wasted_epochs', 0.1)).toEqual({ key: 'wasted_epochs', label: 'Epochs trained after the best one', weight: 0.1 });
  });
});
