import { seededRandom } from '../policies/random';

/** A mean with its confidence interval. */
export interface MeanInterval {
  mean: number;
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Resamples drawn (default 10 000). */
  resamples: number;
  /** The generator's seed: the same data and seed give the same interval. */
  seed: number;
  /** Coverage of the percentile interval (default 0.95). */
  level: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = { resamples: 10_000, seed: 20260101, level: 0.95 };

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

/** The q-quantile of sorted values, linearly interpolated (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Percentile bootstrap of the mean: resample the values with replacement, take each
 * resample's mean, and report the central `level` of those means. The generator is the
 * seeded mulberry32 the random policy uses (Math.random cannot be seeded, and a report must
 * show the same interval when run again). One value gives a zero-width interval.
 */
export function bootstrapMean(values: readonly number[], options: Partial<BootstrapOptions> = {}): MeanInterval {
  const { resamples, seed, level } = { ...DEFAULT_BOOTSTRAP, ...options };
  if (values.length === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN };
  const rand = seededRandom(seed);
  const n = values.length;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(rand() * n)];
    means[r] = sum / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  const sorted = Array.from(means);
  return { mean: mean(values), low: quantile(sorted, tail), high: quantile(sorted, 1 - tail) };
}

/**
 * Paired bootstrap of mean(a) - mean(b) where a[i] and b[i] were played on the same seed:
 * the per-seed differences are resampled together, so seed-to-seed variation that both
 * share cancels out. Identical runs give exactly 0 with a zero-width interval.
 */
export function pairedBootstrapDifference(a: readonly number[], b: readonly number[], options: Partial<BootstrapOptions> = {}): MeanInterval {
  if (a.length !== b.length) throw new RangeError(`paired samples must have the same length, got ${a.length} and ${b.length}`);
  return bootstrapMean(
    a.map((value, i) => value - b[i]),
    options,
  );
}
