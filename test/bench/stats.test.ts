import { median, ratio, summarize } from '../../layers/bench/src/stats';

describe('bench statistics', () => {
  it('takes the middle value of an odd sample', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([5])).toBe(5);
  });

  it('averages the two middle values of an even sample, as Python statistics.median does', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([6.705, 6.512, 7.9, 6.6])).toBeCloseTo(6.6525, 12);
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('summarises median, min, max and count', () => {
    expect(summarize([0.12, 0.1, 0.3])).toEqual({ median: 0.12, min: 0.1, max: 0.3, n: 3 });
  });

  it('refuses empty and non-finite samples', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, NaN])).toThrow(/finite/);
  });

  it('computes ours / reference, null when a side is missing or zero', () => {
    expect(ratio(2, 4)).toBe(0.5);
    expect(ratio(2, 0)).toBeNull();
    expect(ratio(null, 1)).toBeNull();
    expect(ratio(1, undefined)).toBeNull();
  });
});
