// The graders' building blocks at their edges, each against a value worked out by hand.
import { accuracyScore, clampScore, efficiencyScore, generalisationScore, stabilityScore, valLossVariance, wastedEpochs } from '../../layers/core/src';

describe('grading building blocks at their edges', () => {
  it('the variance of no val loss is 0, not NaN', () => {
    expect(valLossVariance([])).toBe(0);
  });

  it('the variance uses the last 10 val losses only', () => {
    expect(valLossVariance([100, 100, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3])).toBe(1);
    expect(valLossVariance([1, 1, 1, 1, 1, 3, 3, 3, 3, 3])).toBe(1);
  });

  it('clamps to [0.0001, 0.9999] and passes what lies within', () => {
    expect(clampScore(0.5)).toBe(0.5);
    expect(clampScore(0.0001)).toBe(0.0001);
    expect(clampScore(0.9999)).toBe(0.9999);
    expect(accuracyScore(0.5, { min_score_accuracy: 0.4, max_score_accuracy: 0.6 })).toBe(0.5);
  });

  it('sub-scores fall linearly to their limits', () => {
    expect(generalisationScore(0.06)).toBe(0.5);
    expect(generalisationScore(0)).toBe(0.9999);
    expect(efficiencyScore(15, 60)).toBe(0.75);
    expect(efficiencyScore(0, 0)).toBe(0.9999);
    expect(efficiencyScore(1, 0)).toBe(0.0001);
    expect(stabilityScore(0.005)).toBe(0.5);
  });

  it('wasted epochs are never negative', () => {
    expect(wastedEpochs({ current_epoch: 3, best_val_epoch: 5 })).toBe(0);
    expect(wastedEpochs({ current_epoch: 5, best_val_epoch: 5 })).toBe(0);
  });
});
