import type { TaskId } from '../../core/src';

/**
 * Settings of the cloud handlers, read from their environment (functions/README.md lists
 * what the CDK app sets). Every value has a default, so a variable the CDK app does not
 * set (the optional tuning knobs below) costs nothing; a malformed value is an error that
 * names it, thrown when the handler first needs its settings.
 */

/** Prices of the cost estimate (GET /v1/usage, the batch leaderboard). Defaults: the CDK app's. */
export interface Prices {
  perEpisodeUsd: number;
  lambdaGbSecondUsd: number;
  lambdaRequestUsd: number;
}

export const DEFAULT_PRICES: Prices = { perEpisodeUsd: 0.1, lambdaGbSecondUsd: 0.0000166667, lambdaRequestUsd: 0.0000002 };

/** The baseline agent's score per task, shown on the batch leaderboard for reference (BASELINE_SCORES). */
export type BaselineScores = Partial<Record<TaskId, number>>;

/**
 * BASELINE_SCORES's defaults: measured grades of the built-in baseline agent
 * (`ml-trainer agent --policy baseline`) on each task.
 */
export const DEFAULT_BASELINE_SCORES: Readonly<Record<TaskId, number>> = { easy_mnist: 0.9999, medium_fashion: 0.8506, hard_cifar: 0.9803 };

/**
 * BASELINE_SCORES: a JSON object of scores by task, e.g. `{"easy_mnist": 0.9999}`; tasks not
 * named keep their defaults, a task set to null has no baseline; unset or empty: the defaults.
 */
export function baselineScoresFromEnv(env: Env = process.env): BaselineScores {
  const result: BaselineScores = { ...DEFAULT_BASELINE_SCORES };
  const text = env.BASELINE_SCORES?.trim();
  if (!text) return result;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CloudConfigError(`BASELINE_SCORES is not valid JSON: ${JSON.stringify(text)}.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CloudConfigError(`BASELINE_SCORES must be a JSON object of scores by task, e.g. {"easy_mnist": 0.9999}; got ${JSON.stringify(text)}.`);
  }
  for (const [task, score] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(task in DEFAULT_BASELINE_SCORES)) throw new CloudConfigError(`BASELINE_SCORES names an unknown task ${JSON.stringify(task)}.`);
    if (score === null) {
      delete result[task as TaskId];
      continue;
    }
    if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
      throw new CloudConfigError(`BASELINE_SCORES: ${task} needs a score from 0 to 1 (or null for none), got ${JSON.stringify(score)}.`);
    }
    result[task as TaskId] = score;
  }
  return result;
}

/** How the api Lambda routes steps and how long a step may stay pending. */
export interface StepRouting {
  /** SYNC_STEP_BUDGET_MS: a step expected to take longer runs asynchronously. */
  syncBudgetMs: number;
  /** STEP_SECONDS_PER_EPOCH: per task, before the episode has measured its own epochs. */
  secondsPerEpoch: Record<TaskId, number>;
  /** STEP_OVERHEAD_MS: restore, checkpoint upload and commit of any step (plus a cold start). */
  overheadMs: number;
  /** STEP_DATA_LOAD_MS: added when the episode has not trained yet (dataset download and decode). */
  dataLoadMs: number;
  /**
   * STEP_START_WITHIN_MS: an asynchronous step that has not started this long after it was
   * requested is not started any more (it failed). Default 60 min, the training Lambda's
   * maximum event age.
   */
  startWithinMs: number;
  /** The training Lambda's timeout (15 min) plus a margin: a started step cannot run longer. */
  runWithinMs: number;
  /** SYNC_INVOKE_MARGIN_MS: the api Lambda stops waiting for a synchronous step this long before its own timeout. */
  syncInvokeMarginMs: number;
  /** TRAINING_MEMORY_MB (for estimates only; the training Lambda meters its own memory). */
  trainingMemoryMb: number;
}

export const DEFAULT_SECONDS_PER_EPOCH: Record<TaskId, number> = { easy_mnist: 1.5, medium_fashion: 6, hard_cifar: 25 };

export const DEFAULT_STEP_ROUTING: StepRouting = {
  syncBudgetMs: 20_000,
  secondsPerEpoch: DEFAULT_SECONDS_PER_EPOCH,
  overheadMs: 4_000,
  dataLoadMs: 6_000,
  startWithinMs: 60 * 60_000,
  runWithinMs: 16 * 60_000,
  syncInvokeMarginMs: 2_500,
  trainingMemoryMb: 10_240,
};

export class CloudConfigError extends Error {
  override readonly name = 'CloudConfigError';
}

type Env = NodeJS.ProcessEnv;

/** A number from the environment: the default when unset or empty, an error when malformed or below min. */
export function numberFromEnv(env: Env, name: string, fallback: number, options: { min?: number; integer?: boolean } = {}): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  const min = options.min ?? 0;
  if (!Number.isFinite(value) || value < min || (options.integer && !Number.isInteger(value))) {
    throw new CloudConfigError(
      `${name} must be ${options.integer ? 'an integer' : 'a number'} of at least ${min}, got ${JSON.stringify(text)}.`,
    );
  }
  return value;
}

export function pricesFromEnv(env: Env = process.env): Prices {
  return {
    perEpisodeUsd: numberFromEnv(env, 'PRICE_PER_EPISODE_USD', DEFAULT_PRICES.perEpisodeUsd),
    lambdaGbSecondUsd: numberFromEnv(env, 'PRICE_LAMBDA_GB_SECOND_USD', DEFAULT_PRICES.lambdaGbSecondUsd),
    lambdaRequestUsd: numberFromEnv(env, 'PRICE_LAMBDA_REQUEST_USD', DEFAULT_PRICES.lambdaRequestUsd),
  };
}

/**
 * STEP_SECONDS_PER_EPOCH: `easy_mnist=1.5,hard_cifar=30` or the same as a JSON object;
 * tasks not named keep their defaults.
 */
export function parseSecondsPerEpoch(text: string | undefined): Record<TaskId, number> {
  const result = { ...DEFAULT_SECONDS_PER_EPOCH };
  if (!text || !text.trim()) return result;
  let entries: [string, unknown][];
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      entries = Object.entries(JSON.parse(trimmed) as Record<string, unknown>);
    } catch {
      throw new CloudConfigError(`STEP_SECONDS_PER_EPOCH is not valid JSON: ${JSON.stringify(text)}.`);
    }
  } else {
    entries = trimmed.split(',').map((pair) => {
      const [key, value] = pair.split('=');
      return [String(key).trim(), value === undefined ? undefined : Number(value.trim())];
    });
  }
  for (const [task, seconds] of entries) {
    if (!(task in result)) throw new CloudConfigError(`STEP_SECONDS_PER_EPOCH names an unknown task ${JSON.stringify(task)}.`);
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new CloudConfigError(`STEP_SECONDS_PER_EPOCH: ${task} needs a positive number of seconds.`);
    }
    result[task as TaskId] = seconds;
  }
  return result;
}

export function stepRoutingFromEnv(env: Env = process.env): StepRouting {
  const d = DEFAULT_STEP_ROUTING;
  return {
    syncBudgetMs: numberFromEnv(env, 'SYNC_STEP_BUDGET_MS', d.syncBudgetMs),
    secondsPerEpoch: parseSecondsPerEpoch(env.STEP_SECONDS_PER_EPOCH),
    overheadMs: numberFromEnv(env, 'STEP_OVERHEAD_MS', d.overheadMs),
    dataLoadMs: numberFromEnv(env, 'STEP_DATA_LOAD_MS', d.dataLoadMs),
    startWithinMs: numberFromEnv(env, 'STEP_START_WITHIN_MS', d.startWithinMs, { min: 1000 }),
    runWithinMs: numberFromEnv(env, 'STEP_RUN_WITHIN_MS', d.runWithinMs, { min: 1000 }),
    syncInvokeMarginMs: numberFromEnv(env, 'SYNC_INVOKE_MARGIN_MS', d.syncInvokeMarginMs),
    trainingMemoryMb: numberFromEnv(env, 'TRAINING_MEMORY_MB', d.trainingMemoryMb, { min: 128, integer: true }),
  };
}

/** The name of a function to invoke (TRAINING_FUNCTION_NAME, GRADE_FUNCTION_NAME). */
export function requiredEnv(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new CloudConfigError(`${name} is not set.`);
  return value;
}

/**
 * EPISODE_QUOTA_PER_MONTH: episodes each tenant (API key) may create per calendar month (UTC)
 * unless its own `quota#limit` item says otherwise (layers/cloud/src/episode-quota.ts).
 * Unset, empty or 0: unlimited.
 */
export function episodeQuotaFromEnv(env: Env = process.env): number {
  return numberFromEnv(env, 'EPISODE_QUOTA_PER_MONTH', 0, { min: 0, integer: true });
}
