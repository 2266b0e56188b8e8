/** Median, minimum and maximum of a sample (the figures the bench prints per epoch series). */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The median as Python's statistics.median computes it: the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of an empty sample');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** ours / reference, or null when either side is missing or the reference is zero. */
export function ratio(ours: number | null | undefined, reference: number | null | undefined): number | null {
  if (ours === null || ours === undefined || reference === null || reference === undefined || reference === 0) return null;
  return ours / reference;
}
