// pythonRound's edges, each value as CPython 3's round(x, ndigits) gives it (the seed's graders
// are Python): signed zeros, the tiny and huge ranges the function short-cuts, ties to even at
// every position, and carries into the integer part.
import { pythonRound } from '../../layers/core/src';

describe('pythonRound at its edges', () => {
  it.each([
    // A tie rounds to the even neighbour, at every number of digits.
    [0.5, 0, 0],
    [1.5, 0, 2],
    [12.5, 0, 12],
    [0.125, 2, 0.12],
    [0.375, 2, 0.38],
    [0.0625, 3, 0.062],
    // Not ties in binary: the exact value decides (2.675 is below the half, 0.0005 and 0.00015 above or below).
    [2.675, 2, 2.67],
    [0.0005, 3, 0.001],
    [0.0015, 3, 0.002],
    [0.00015, 4, 0.0001],
    [0.00049999, 3, 0],
    // A digit beyond the half rounds up; leading zeros of the fraction are kept.
    [5.1e-5, 4, 0.0001],
    [5e-5, 4, 0.0001],
    [1e-5, 4, 0],
    [0.0001, 4, 0.0001],
    [1.00005, 4, 1.0001],
    // A carry into the integer part.
    [9.99995, 4, 10],
    [-9.99995, 4, -10],
    [123.456789, 0, 123],
    [4503599627370495.5, 0, 4503599627370496],
    // At and above 2^52 a double has no fraction; far above it toFixed would print an exponent.
    [2 ** 52, 2, 2 ** 52],
    [2 ** 52 + 1, 0, 2 ** 52 + 1],
    [1e300, 4, 1e300],
    [-1e300, 4, -1e300],
    // 2^-47 itself is not short-cut: to 15 digits it is 7e-15.
    [2 ** -47, 15, 7e-15],
    [-(2 ** -47), 15, -7e-15],
    [2 ** -47, 14, 1e-14],
  ])('round(%p, %p) is %p', (x, ndigits, expected) => {
    expect(pythonRound(x, ndigits)).toBe(expected);
  });

  it('keeps the sign of zero, as Python does', () => {
    expect(Object.is(pythonRound(-0, 4), -0)).toBe(true);
    expect(Object.is(pythonRound(0, 4), 0)).toBe(true);
    expect(Object.is(pythonRound(-1e-20, 4), -0)).toBe(true);
    expect(Object.is(pythonRound(1e-20, 4), 0)).toBe(true);
    expect(Object.is(pythonRound(-1e-5, 4), -0)).toBe(true);
  });

  it('passes negative infinity through', () => {
    expect(pythonRound(Number.NEGATIVE_INFINITY, 4)).toBe(Number.NEGATIVE_INFINITY);
  });
});
