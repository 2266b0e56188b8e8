/**
 * Python's `round(x, ndigits)` for floats: the exact binary value is rounded to
 * `ndigits` decimals, ties to even. JavaScript's toFixed breaks ties upwards, and
 * Math.round(x * 10^n) / 10^n also errs where x * 10^n is inexact, so neither
 * reproduces the seed's grades to the last digit.
 */
export function pythonRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  // Below 2^-47 the fraction has more than 100 digits, and no double that small rounds away from 0.
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a short-cut: to the 3, 4 or 6 digits callers ask (any ndigits ≤ 13) the exact path gives ±0 too; x is never 0 here, so x <= 0 is x < 0
  if (Math.abs(x) < 2 ** -47) return x < 0 ? -0 : 0;
  // Stryker disable next-line EqualityOperator: 2^52 itself has no fraction, so the exact path gives it back unchanged too
  if (Math.abs(x) >= 2 ** 52) return x;
  // toFixed(100) is the exact decimal expansion here: a double ≥ 2^-47 has at most 100 fraction digits.
  const [intPart, fracPart] = Math.abs(x).toFixed(100).split('.');
  let digits = BigInt(intPart + fracPart.slice(0, ndigits));
  const rest = fracPart.slice(ndigits);
  const beyondHalf = rest.slice(1).replace(/0/g, '') !== '';
  if (rest[0] > '5' || (rest[0] === '5' && (beyondHalf || digits % 2n === 1n))) digits += 1n;
  const text = digits.toString().padStart(ndigits + 1, '0');
  const value = Number(`${text.slice(0, text.length - ndigits)}.${text.slice(text.length - ndigits)}`);
  // Stryker disable next-line EqualityOperator: x is never 0 here, so x <= 0 is x < 0
  return x < 0 ? -value : value;
}
