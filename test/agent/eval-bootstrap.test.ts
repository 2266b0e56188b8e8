import { bootstrapMean, pairedBootstrapDifference, quantile } from '../../layers/agent/src';

describe('eval bootstrap', () => {
  const scores = [0.61, 0.72, 0.55, 0.8, 0.67, 0.7, 0.59, 0.74];

  it('is deterministic for a seed and changes with it', () => {
    const a = bootstrapMean(scores, { seed: 7, resamples: 2000 });
    expect(bootstrapMean(scores, { seed: 7, resamples: 2000 })).toEqual(a);
    expect(bootstrapMean(scores, { seed: 8, resamples: 2000 })).not.toEqual(a);
  });

  it('gives an interval that contains the mean, inside the data range', () => {
    const i = bootstrapMean(scores);
    const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
    expect(i.mean).toBeCloseTo(mean, 12);
    expect(i.low).toBeLessThan(mean);
    expect(i.high).toBeGreaterThan(mean);
    expect(i.low).toBeGreaterThanOrEqual(Math.min(...scores));
    expect(i.high).toBeLessThanOrEqual(Math.max(...scores));
  });

  it('matches the normal approximation on a known case: 0..99 has mean 49.5 and standard error 2.87', () => {
    const values = Array.from({ length: 100 }, (_, i) => i);
    const i = bootstrapMean(values, { resamples: 5000, seed: 1 });
    // The population sd of 0..99 is 28.866; 1.96 × 28.866 / sqrt(100) = 5.66.
    expect(i.mean).toBe(49.5);
    expect(i.low).toBeGreaterThan(49.5 - 5.66 - 0.4);
    expect(i.low).toBeLessThan(49.5 - 5.66 + 0.4);
    expect(i.high).toBeGreaterThan(49.5 + 5.66 - 0.4);
    expect(i.high).toBeLessThan(49.5 + 5.66 + 0.4);
  });

  it('resamples two values into the means 0, 0.5 and 1: the 95% interval spans 0 to 1', () => {
    expect(bootstrapMean([0, 1], { resamples: 4000, seed: 3 })).toEqual({ mean: 0.5, low: 0, high: 1 });
  });

  it('gives a zero-width interval for one value or constant values, NaN for none', () => {
    expect(bootstrapMean([0.42])).toEqual({ mean: 0.42, low: 0.42, high: 0.42 });
    expect(bootstrapMean([0.3, 0.3, 0.3])).toEqual({ mean: 0.3, low: 0.3, high: 0.3 });
    expect(bootstrapMean([]).mean).toBeNaN();
  });

  it('the paired difference of identical runs is exactly 0', () => {
    expect(pairedBootstrapDifference(scores, [...scores])).toEqual({ mean: 0, low: 0, high: 0 });
  });

  it('the paired difference cancels what both runs share per seed', () => {
    // Seed effects vary a lot; the agent is 0.05 better on every seed.
    const reference = [0.1, 0.9, 0.3, 0.7, 0.5];
    const own = reference.map((r) => r + 0.05);
    const diff = pairedBootstrapDifference(own, reference);
    expect(diff.mean).toBeCloseTo(0.05, 12);
    expect(diff.high - diff.low).toBeLessThan(1e-9);
    // Unpaired, the same data's intervals overlap widely.
    const a = bootstrapMean(own);
    const b = bootstrapMean(reference);
    expect(a.low).toBeLessThan(b.high);
  });

  it('refuses samples of different lengths', () => {
    expect(() => pairedBootstrapDifference([1, 2], [1])).toThrow(/same length/);
  });

  it('quantile interpolates linearly', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
  });
});
