import { bootstrapMean, DEFAULT_BOOTSTRAP, pairedBootstrapDifference, quantile, type BootstrapOptions, type MeanInterval } from './bootstrap';
import type { EvalEpisode } from './eval-episode';

/** One task's statistics over the eval's episodes (failed episodes are counted, not scored). */
export interface TaskSummary {
  task_id: string;
  episodes: number;
  /** Episodes that ended with a score (the statistics are over these). */
  scored: number;
  failed: number;
  score: MeanInterval;
  median: number;
  min: number;
  max: number;
  mean_epochs_used: number;
  mean_steps: number;
  mean_training_seconds: number | null;
  mean_model_cost_usd: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** A reference policy's scores on the same seeds, and this eval's difference to it. */
export interface Comparison {
  policy: string;
  /** Seeds both played (the difference is over these). */
  episodes: number;
  score: MeanInterval;
  difference: MeanInterval;
}

const meanOf = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length);

/** The mean of the values present, or null when none is. */
function meanOfKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : meanOf(known);
}

function sumOfKnown(values: readonly (number | undefined)[]): number | null {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? null : known.reduce((s, v) => s + v, 0);
}

export function summarizeTask(taskId: string, episodes: readonly EvalEpisode[], options: Partial<BootstrapOptions> = {}): TaskSummary {
  const scored = episodes.filter((e): e is EvalEpisode & { score: number } => e.score !== null);
  const scores = scored.map((e) => e.score).sort((a, b) => a - b);
  return {
    task_id: taskId,
    episodes: episodes.length,
    scored: scored.length,
    failed: episodes.length - scored.length,
    score: bootstrapMean(scores, { ...DEFAULT_BOOTSTRAP, ...options }),
    median: quantile(scores, 0.5),
    min: scores[0] ?? Number.NaN,
    max: scores.at(-1) ?? Number.NaN,
    mean_epochs_used: meanOf(scored.map((e) => e.epochs_used)),
    mean_steps: meanOf(scored.map((e) => e.steps)),
    mean_training_seconds: meanOfKnown(scored.map((e) => e.training_seconds)),
    mean_model_cost_usd: meanOfKnown(episodes.map((e) => e.model_cost_usd)),
    prompt_tokens: sumOfKnown(episodes.map((e) => e.model_usage?.prompt_tokens)),
    completion_tokens: sumOfKnown(episodes.map((e) => e.model_usage?.completion_tokens)),
  };
}

/**
 * This eval against a reference policy's scores by seed: the reference's mean over the
 * seeds both played, and the paired difference (this minus the reference) with its interval.
 * Null when no seed was played by both.
 */
export function compareToReference(
  policy: string,
  own: readonly EvalEpisode[],
  reference: ReadonlyMap<number, number>,
  options: Partial<BootstrapOptions> = {},
): Comparison | null {
  const pairs = own.filter((e) => e.score !== null && reference.has(e.seed)).map((e) => [e.score as number, reference.get(e.seed)!] as const);
  if (pairs.length === 0) return null;
  const settings = { ...DEFAULT_BOOTSTRAP, ...options };
  const theirs = pairs.map(([, r]) => r);
  return {
    policy,
    episodes: pairs.length,
    score: bootstrapMean(theirs, settings),
    difference: pairedBootstrapDifference(
      pairs.map(([o]) => o),
      theirs,
      settings,
    ),
  };
}
