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

/** GFLOP/s of a pass that did `flops` in `seconds`, or null without a positive time. */
export function gflopsPerSecond(flops: number, seconds: number | null | undefined): number | null {
  if (seconds === null || seconds === undefined || !(seconds > 0) || !Number.isFinite(seconds)) return null;
  return flops / seconds / 1e9;
}

/** `gflops` as a percentage of `peak`, or null when either is missing. */
export function percentOf(gflops: number | null, peak: number | null | undefined): number | null {
  if (gflops === null || peak === null || peak === undefined || !(peak > 0)) return null;
  return (100 * gflops) / peak;
}

/** One side's achieved FLOP rate per pass and its share of the machine's matMul peak. */
export interface PassRates {
  train_gflops: number | null;
  val_gflops: number | null;
  train_pct_of_peak: number | null;
  val_pct_of_peak: number | null;
}

/** The rates of a train pass and a val pass of known FLOPs, from their median seconds. */
export function passRates(
  flops: { train: number; val: number },
  seconds: { median_train_s: number | null; median_val_s: number | null },
  peakGflops: number | null,
): PassRates {
  const train = gflopsPerSecond(flops.train, seconds.median_train_s);
  const val = gflopsPerSecond(flops.val, seconds.median_val_s);
  return { train_gflops: train, val_gflops: val, train_pct_of_peak: percentOf(train, peakGflops), val_pct_of_peak: percentOf(val, peakGflops) };
}
