import { z } from 'zod';
import { isTaskId, listTaskModules, type TaskId } from '../../core/src';

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

/** The api Lambda's memory: the CDK app deploys it so, and the cost model bills its GB-seconds by it. */
export const API_FUNCTION_MEMORY_MB = 1024;

/** The baseline agent's score per task, shown on the batch leaderboard for reference (BASELINE_SCORES); a task not listed has none. */
export type BaselineScores = Record<TaskId, number>;

/** BASELINE_SCORES's defaults: each registered task's measured baseline grade (its module's `baseline.measured_score`). */
export function defaultBaselineScores(): BaselineScores {
  return Object.fromEntries(
    listTaskModules().flatMap(({ definition, baseline }) => (baseline.measured_score === null ? [] : [[definition.task_id, baseline.measured_score]])),
  );
}

/** How the api Lambda routes steps and how long a step may stay pending. */
export interface StepRouting {
  /** SYNC_STEP_BUDGET_MS: a step expected to take longer runs asynchronously. */
  syncBudgetMs: number;
  /**
   * STEP_SECONDS_PER_EPOCH: per task, before the episode has measured its own epochs. A task
   * not listed (registered after these settings were read) uses its module's estimate.
   */
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

/** STEP_SECONDS_PER_EPOCH's defaults: each registered task's own estimate (its module's `estimates`). */
function defaultSecondsPerEpoch(): Record<TaskId, number> {
  return Object.fromEntries(listTaskModules().map(({ definition, estimates }) => [definition.task_id, estimates.lambda_seconds_per_epoch]));
}

export const DEFAULT_STEP_ROUTING: StepRouting = {
  syncBudgetMs: 20_000,
  secondsPerEpoch: defaultSecondsPerEpoch(),
  overheadMs: 4_000,
  dataLoadMs: 6_000,
  startWithinMs: 60 * 60_000,
  runWithinMs: 16 * 60_000,
  syncInvokeMarginMs: 2_500,
  trainingMemoryMb: 10_240,
};

/** The batch run's settings (find-episodes, auto-submit). */
export interface BatchSettings {
  /** ABANDON_AFTER_HOURS: an active episode idle this long is auto-submitted. */
  abandonAfterHours: number;
  /**
   * MAX_EPISODES_PER_RUN: a safety cap, not a throughput limit. A run that reaches it starts
   * its own continuation (the state machine's last state), which takes the rest at once.
   */
  maxEpisodesPerRun: number;
  /** RUN_TIMEOUT_SECONDS: the state machine's timeout, how long a run holds its window (find-episodes). */
  runTimeoutSeconds: number;
}

/** Episodes one batch run takes at most by default; infra/config.ts's batchMaxEpisodes range starts here. */
export const DEFAULT_MAX_EPISODES_PER_RUN = 1_000_000;

const DEFAULT_BATCH_SETTINGS: BatchSettings = { abandonAfterHours: 24, maxEpisodesPerRun: DEFAULT_MAX_EPISODES_PER_RUN, runTimeoutSeconds: 6 * 3600 };

/** Where write-report writes and what it prices and compares with. */
export interface ReportSettings {
  /** REPORTS_PREFIX, e.g. `reports/`. */
  prefix: string;
  prices: Prices;
  baselines: BaselineScores;
}

const DEFAULT_REPORTS_PREFIX = 'reports/';

export class CloudConfigError extends Error {
  override readonly name = 'CloudConfigError';
}

type Env = NodeJS.ProcessEnv;

/**
 * The variables a schema names, validated; a failure names the variable, what it allows and
 * what it holds: `STEP_OVERHEAD_MS must be a number of at least 0, got "soon".`
 */
function settingsFromEnv<T>(schema: z.ZodType<T>, env: Env): T {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const [name = '', ...within] = issue.path.map(String);
  const held = env[name]?.trim();
  const subject = within.length > 0 ? `${name}: ${within.join('.')}` : name;
  throw new CloudConfigError(`${subject} ${issue.message}${held ? `, got ${JSON.stringify(held)}` : ''}.`);
}

/** A blank variable counts as unset. */
const unsetIfBlank = (value: unknown): unknown => (typeof value === 'string' ? value.trim() || undefined : value);

/** A number variable: its default when unset. */
function envNumber(fallback: number, { min = 0, integer = false } = {}) {
  const error = `must be ${integer ? 'an integer' : 'a number'} of at least ${min}`;
  const number = z.coerce.number({ error }).min(min, { error });
  return z.preprocess(unsetIfBlank, (integer ? number.int({ error }) : number).default(fallback));
}

/** A JSON object (or, for STEP_SECONDS_PER_EPOCH, `task=value` pairs) of values by task id. */
function byTask<V extends z.ZodType>(value: V, what: string, example: string) {
  const unknownTask = (byId: object) => Object.keys(byId).find((task) => !isTaskId(task));
  return z
    .record(z.string(), value, { error: `must be a JSON object of ${what} by task, e.g. ${example}` })
    .refine((byId) => unknownTask(byId) === undefined, { error: (issue) => `names an unknown task ${JSON.stringify(unknownTask(issue.input as object))}` });
}

function parseJson(text: string, ctx: z.core.$RefinementCtx): unknown {
  try {
    return JSON.parse(text);
  } catch {
    ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
    return z.NEVER;
  }
}

/** `easy_mnist=1.5,hard_cifar=30` as an object (a pair without `=` has no value). */
function pairsObject(text: string): Record<string, number | undefined> {
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const [key, value] = pair.split('=');
      return [String(key).trim(), value === undefined ? undefined : Number(value.trim())];
    }),
  );
}

const secondsPerEpochText = z
  .string()
  .transform((text, ctx) => (text.startsWith('{') ? parseJson(text, ctx) : pairsObject(text)))
  .pipe(byTask(z.number({ error: 'needs a positive number of seconds' }).positive({ error: 'needs a positive number of seconds' }), 'seconds', '{"hard_cifar": 30}'))
  .optional()
  .transform((seconds): Record<TaskId, number> => ({ ...defaultSecondsPerEpoch(), ...seconds }));

const baselineScore = z.number({ error: 'needs a score from 0 to 1 (or null for none)' }).min(0).max(1).nullable();

const baselineScoresText = z
  .string()
  .transform(parseJson)
  .pipe(byTask(baselineScore, 'scores', '{"easy_mnist": 0.9999}'))
  .optional()
  .transform((overrides): BaselineScores => {
    const scores = defaultBaselineScores();
    for (const [task, score] of Object.entries(overrides ?? {})) {
      if (score === null) delete scores[task];
      else scores[task] = score;
    }
    return scores;
  });

const pricesEnv = z
  .object({
    PRICE_PER_EPISODE_USD: envNumber(DEFAULT_PRICES.perEpisodeUsd),
    PRICE_LAMBDA_GB_SECOND_USD: envNumber(DEFAULT_PRICES.lambdaGbSecondUsd),
    PRICE_LAMBDA_REQUEST_USD: envNumber(DEFAULT_PRICES.lambdaRequestUsd),
  })
  .transform(
    (v): Prices => ({ perEpisodeUsd: v.PRICE_PER_EPISODE_USD, lambdaGbSecondUsd: v.PRICE_LAMBDA_GB_SECOND_USD, lambdaRequestUsd: v.PRICE_LAMBDA_REQUEST_USD }),
  );

const d = DEFAULT_STEP_ROUTING;
const stepRoutingEnv = z
  .object({
    SYNC_STEP_BUDGET_MS: envNumber(d.syncBudgetMs),
    STEP_SECONDS_PER_EPOCH: z.preprocess(unsetIfBlank, secondsPerEpochText),
    STEP_OVERHEAD_MS: envNumber(d.overheadMs),
    STEP_DATA_LOAD_MS: envNumber(d.dataLoadMs),
    STEP_START_WITHIN_MS: envNumber(d.startWithinMs, { min: 1000 }),
    STEP_RUN_WITHIN_MS: envNumber(d.runWithinMs, { min: 1000 }),
    SYNC_INVOKE_MARGIN_MS: envNumber(d.syncInvokeMarginMs),
    TRAINING_MEMORY_MB: envNumber(d.trainingMemoryMb, { min: 128, integer: true }),
  })
  .transform(
    (v): StepRouting => ({
      syncBudgetMs: v.SYNC_STEP_BUDGET_MS,
      secondsPerEpoch: v.STEP_SECONDS_PER_EPOCH,
      overheadMs: v.STEP_OVERHEAD_MS,
      dataLoadMs: v.STEP_DATA_LOAD_MS,
      startWithinMs: v.STEP_START_WITHIN_MS,
      runWithinMs: v.STEP_RUN_WITHIN_MS,
      syncInvokeMarginMs: v.SYNC_INVOKE_MARGIN_MS,
      trainingMemoryMb: v.TRAINING_MEMORY_MB,
    }),
  );

const batchEnv = z
  .object({
    ABANDON_AFTER_HOURS: envNumber(DEFAULT_BATCH_SETTINGS.abandonAfterHours),
    MAX_EPISODES_PER_RUN: envNumber(DEFAULT_BATCH_SETTINGS.maxEpisodesPerRun, { min: 1, integer: true }),
    RUN_TIMEOUT_SECONDS: envNumber(DEFAULT_BATCH_SETTINGS.runTimeoutSeconds, { min: 60, integer: true }),
  })
  .transform((v): BatchSettings => ({ abandonAfterHours: v.ABANDON_AFTER_HOURS, maxEpisodesPerRun: v.MAX_EPISODES_PER_RUN, runTimeoutSeconds: v.RUN_TIMEOUT_SECONDS }));

/**
 * EPISODE_QUOTA_PER_MONTH: episodes each tenant (API key) may create per calendar month (UTC)
 * unless its own `quota#limit` item says otherwise (layers/cloud/src/episode-quota.ts).
 * Unset, empty or 0: unlimited.
 */
const episodeQuotaEnv = z.object({ EPISODE_QUOTA_PER_MONTH: envNumber(0, { min: 0, integer: true }) });

export function pricesFromEnv(env: Env = process.env): Prices {
  return settingsFromEnv(pricesEnv, env);
}

export function stepRoutingFromEnv(env: Env = process.env): StepRouting {
  return settingsFromEnv(stepRoutingEnv, env);
}

/**
 * STEP_SECONDS_PER_EPOCH: `easy_mnist=1.5,hard_cifar=30` or the same as a JSON object;
 * tasks not named keep their defaults.
 */
export function parseSecondsPerEpoch(text: string | undefined): Record<TaskId, number> {
  return settingsFromEnv(z.object({ STEP_SECONDS_PER_EPOCH: z.preprocess(unsetIfBlank, secondsPerEpochText) }), { STEP_SECONDS_PER_EPOCH: text })
    .STEP_SECONDS_PER_EPOCH;
}

/**
 * BASELINE_SCORES: a JSON object of scores by task, e.g. `{"easy_mnist": 0.9999}`; tasks not
 * named keep their defaults, a task set to null has no baseline; unset or empty: the defaults.
 */
export function baselineScoresFromEnv(env: Env = process.env): BaselineScores {
  return settingsFromEnv(z.object({ BASELINE_SCORES: z.preprocess(unsetIfBlank, baselineScoresText) }), env).BASELINE_SCORES;
}

export function episodeQuotaFromEnv(env: Env = process.env): number {
  return settingsFromEnv(episodeQuotaEnv, env).EPISODE_QUOTA_PER_MONTH;
}

export function batchSettingsFromEnv(env: Env = process.env): BatchSettings {
  return settingsFromEnv(batchEnv, env);
}

/** write-report's settings: REPORTS_PREFIX (an empty prefix is the bucket's root), PRICE_*, BASELINE_SCORES. */
export function reportSettingsFromEnv(env: Env = process.env): ReportSettings {
  return { prefix: env.REPORTS_PREFIX ?? DEFAULT_REPORTS_PREFIX, prices: pricesFromEnv(env), baselines: baselineScoresFromEnv(env) };
}

/** The name of a function to invoke (TRAINING_FUNCTION_NAME, GRADE_FUNCTION_NAME). */
export function requiredEnv(env: Env, name: string): string {
  return settingsFromEnv(z.object({ [name]: z.preprocess(unsetIfBlank, z.string({ error: 'is not set' })) }), env)[name] as string;
}
