/**
 * The deployment's configuration: every knob an operator can turn, its default, and how it
 * is read from CDK context (`cdk deploy -c trainingMemoryMb=8192`, or the `context` block of
 * cdk.json). Values given on the command line arrive as strings; cdk.json may hold numbers
 * and booleans. All problems are reported at once, before any construct is created.
 */

import { z } from 'zod';
import { integerIn, noteOf, numberAmong, numberIn, oneOf, optional, orNone, rangeOf, textMatching, trueOrFalse, withDefault, withNote, type ValueRange } from './context-values';
import {
  CONCURRENCY_QUOTA_NOTE,
  LAMBDA_MAX_MEMORY_MB,
  MAX_VCPUS,
  MB_PER_VCPU,
  MEMORY_QUOTA_NOTE,
  minimumMemoryForVcpus,
  vcpusFor,
} from './lambda-limits';
import { TRAINING_IMAGE_BUILD_ARGS } from './paths';
import { DEFAULT_MAX_EPISODES_PER_RUN, DEFAULT_PRICES, MAX_EPISODES_PER_INVOCATION, recommendedTrainingMemoryMb, recommendedTrainingThreads } from '../layers/cloud/src';

export const DATA_ENCRYPTIONS = ['aws-managed', 'customer-managed'] as const;
export type DataEncryption = (typeof DATA_ENCRYPTIONS)[number];
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const QUOTA_PERIODS = ['DAY', 'WEEK', 'MONTH'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

/**
 * The training Lambda's default memory and TensorFlow threads (intra- and inter-op): what the
 * cost model picks (`ml-trainer cost`, layers/cloud/src/cost-model-pick.ts): the cheapest
 * full-budget episode of every task whose 20-epoch step fits its latency bound, within what a
 * brand-new account may deploy (at most NEW_ACCOUNT_MEMORY_LIMIT_MB, infra/lambda-limits.ts).
 */
export const DEFAULT_TRAINING_MEMORY_MB = recommendedTrainingMemoryMb();
export const DEFAULT_TRAINING_THREADS: number = recommendedTrainingThreads();

export interface TrainingConfig {
  /** Memory of the training Lambda in MB; vCPUs scale with it (one per 1769 MB, 6 at 10240). */
  memoryMb: number;
  /**
   * TensorFlow's intra- and inter-op thread counts (TF_NUM_INTRAOP_THREADS,
   * TF_NUM_INTEROP_THREADS): pinned, so that a model's numerics do not change with the
   * memory size (the CNNs split their sums by thread); at most the vCPUs memoryMb gives.
   */
  threads: number;
  /** /tmp size in MB: datasets and decoded subsets are cached there. */
  ephemeralStorageMb: number;
  /** Reserved concurrency of the training Lambda; undefined = unreserved (shares the account pool). */
  reservedConcurrency: number | undefined;
  /** Lambda retries of a failed asynchronous training step. */
  asyncRetryAttempts: number;
  /** How long an asynchronous step may wait for a free training Lambda, in minutes. */
  maxEventAgeMinutes: number;
  /** Mirror for libtensorflow, passed to the image build as the TFJS_NODE_CDN_STORAGE build arg. */
  tfjsNodeCdnStorage: string | undefined;
  /** Build the image with `--network host` (a mirror on the build machine's loopback interface). */
  imageBuildHostNetwork: boolean;
  /** Further build arguments of the image (base images, mirrors), by name: TRAINING_IMAGE_BUILD_ARGS only. */
  imageBuildArgs: Record<string, string>;
}

export interface ApiConfig {
  /** The API Gateway stage (URL https://…/<stage>/v1/…). */
  stageName: string;
  /** Default usage plan (one API key per tenant is associated with it): steady requests per second per key. */
  rateLimit: number;
  /** Default usage plan: burst per key. */
  burstLimit: number;
  /** Default usage plan: requests per key per quotaPeriod. */
  quotaLimit: number;
  quotaPeriod: QuotaPeriod;
  /** Stage-wide throttle (all keys together). */
  stageRateLimit: number;
  stageBurstLimit: number;
  /** A step the api Lambda expects to finish within this many seconds runs synchronously (below API Gateway's 29 s). */
  syncStepBudgetSeconds: number;
  /**
   * Episodes each tenant (API key) may create per calendar month (UTC), enforced by the api
   * Lambda (EPISODE_QUOTA_PER_MONTH); 0 = unlimited. A tenant's own limit is an item in the
   * table (infra/README.md, "Tenants").
   */
  episodeQuotaPerMonth: number;
  /** Optional AWS WAFv2 web ACL (regional) to associate with the stage. */
  wafWebAclArn: string | undefined;
  /** Create the account-level API Gateway → CloudWatch Logs role (needed once per account and region). */
  cloudWatchRole: boolean;
}

export interface PriceConfig {
  /** What one episode costs the tenant (cost estimates in GET /v1/usage). */
  perEpisodeUsd: number;
  /** Lambda compute price per GB-second (x86, used for training). */
  lambdaGbSecondUsd: number;
  /** Lambda price per request. */
  lambdaRequestUsd: number;
}

export interface BatchConfig {
  /** EventBridge Scheduler expression of the batch grading run. */
  schedule: string;
  /** IANA time zone the schedule expression is evaluated in. */
  timeZone: string;
  enabled: boolean;
  /** An active episode untouched for this many hours is abandoned: the batch run auto-submits it. */
  abandonAfterHours: number;
  /** Child workflows of the distributed map at once (each one grade-batch invocation). */
  maxConcurrency: number;
  /** Episodes per child workflow (ItemBatcher). */
  episodesPerBatch: number;
  /** Failed child workflows a run tolerates, in percent of its batches; more fail the run (the next one takes its window over). */
  toleratedFailurePercent: number;
  /** A safety cap, not a backlog limit: a run that reaches it starts its continuation at once. */
  maxEpisodesPerRun: number;
}

export interface AlarmConfig {
  /** Optional e-mail address subscribed to the alarm topic. */
  email: string | undefined;
  /** p95 Duration of the training Lambda above this (seconds) raises the step-latency alarm. */
  trainingP95Seconds: number;
  /** p95 API Gateway latency above this (milliseconds) raises the API latency alarm. */
  apiP95LatencyMs: number;
}

export interface DeploymentConfig {
  /** Prefix of the stack names (deploy twice in one account with different prefixes). */
  prefix: string;
  /** Keep table, buckets and log groups when the stacks are deleted. */
  retainData: boolean;
  /** CloudFormation termination protection of the data stack (then `cdk destroy` refuses to delete it). */
  terminationProtection: boolean;
  /** Table and bucket encryption: AWS-managed keys, or one customer-managed KMS key (rotated yearly). */
  dataEncryption: DataEncryption;
  /** CloudWatch Logs retention of every log group, in days (a CloudWatch-supported value). */
  logRetentionDays: number;
  /** LOG_LEVEL of every function. */
  logLevel: LogLevel;
  /** POWERTOOLS_METRICS_NAMESPACE of every function. */
  metricsNamespace: string;
  /** An episode item expires (TTL `expires_at`) this many days after its last write. */
  episodeRetentionDays: number;
  /** Backstop: checkpoint objects expire this many days after creation. */
  checkpointExpirationDays: number;
  /** Overwritten or deleted checkpoint versions expire after this many days. */
  checkpointNoncurrentDays: number;
  /** Server access logs expire after this many days. */
  accessLogExpirationDays: number;
  training: TrainingConfig;
  api: ApiConfig;
  prices: PriceConfig;
  batch: BatchConfig;
  alarms: AlarmConfig;
}

export const DEFAULT_CONFIG: DeploymentConfig = {
  prefix: 'MlTrainerEnv',
  retainData: true,
  terminationProtection: false,
  dataEncryption: 'aws-managed',
  logRetentionDays: 30,
  logLevel: 'INFO',
  metricsNamespace: 'MlTrainerEnv',
  episodeRetentionDays: 30,
  checkpointExpirationDays: 45,
  checkpointNoncurrentDays: 7,
  accessLogExpirationDays: 365,
  training: {
    memoryMb: DEFAULT_TRAINING_MEMORY_MB,
    threads: DEFAULT_TRAINING_THREADS,
    ephemeralStorageMb: 4096,
    reservedConcurrency: undefined,
    asyncRetryAttempts: 0,
    maxEventAgeMinutes: 60,
    tfjsNodeCdnStorage: undefined,
    imageBuildHostNetwork: false,
    imageBuildArgs: {},
  },
  api: {
    stageName: 'prod',
    rateLimit: 10,
    burstLimit: 20,
    quotaLimit: 10000,
    quotaPeriod: 'DAY',
    stageRateLimit: 100,
    stageBurstLimit: 200,
    syncStepBudgetSeconds: 20,
    episodeQuotaPerMonth: 0,
    wafWebAclArn: undefined,
    cloudWatchRole: true,
  },
  // The handlers' own defaults (layers/cloud/src/config.ts): the same prices wherever the env leaves one unset.
  prices: { ...DEFAULT_PRICES },
  batch: {
    schedule: 'cron(0 3 * * ? *)',
    timeZone: 'Etc/UTC',
    enabled: true,
    abandonAfterHours: 24,
    maxConcurrency: 10,
    episodesPerBatch: 100,
    toleratedFailurePercent: 5,
    maxEpisodesPerRun: DEFAULT_MAX_EPISODES_PER_RUN,
  },
  alarms: {
    email: undefined,
    trainingP95Seconds: 720,
    apiP95LatencyMs: 25000,
  },
};

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/**
 * Every context key the app reads, with what it sets. What each accepts (ranges, words) is said
 * once, by its schema in CONTEXT_SETTINGS (contextKeyRange, and the error messages).
 */
export const CONTEXT_KEYS = {
  prefix: 'stack name prefix',
  retainData: 'keep table, buckets and log groups on stack deletion (true/false)',
  terminationProtection: 'termination protection of the data stack (true/false)',
  dataEncryption: 'table and bucket encryption keys',
  logRetentionDays: 'CloudWatch Logs retention in days',
  logLevel: 'LOG_LEVEL of every function',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  episodeRetentionDays: 'episode item TTL in days after the last write',
  checkpointExpirationDays: 'checkpoint objects expire after N days (backstop)',
  checkpointNoncurrentDays: 'noncurrent checkpoint versions expire after N days',
  accessLogExpirationDays: 'server access logs expire after N days',
  trainingMemoryMb: 'training Lambda memory in MB',
  trainingThreads: "TensorFlow's intra- and inter-op threads in the training Lambda",
  trainingEphemeralStorageMb: 'training Lambda /tmp size in MB',
  trainingReservedConcurrency: 'reserved concurrency of the training Lambda',
  trainingAsyncRetryAttempts: 'Lambda retries of a failed async step',
  trainingMaxEventAgeMinutes: 'max wait of an async step for a free Lambda, in minutes',
  tfjsNodeCdnStorage: 'libtensorflow mirror for the image build (else env TFJS_NODE_CDN_STORAGE)',
  trainingImageBuildHostNetwork: 'build the training image with --network host (mirror on loopback)',
  trainingImageBuildArgs: 'NAME=VALUE,… build arguments of the training image (base images, mirrors)',
  apiStageName: 'API Gateway stage name',
  apiRateLimit: 'default usage plan: requests/s per key',
  apiBurstLimit: 'default usage plan: burst per key',
  apiQuotaLimit: 'default usage plan: requests per key per period',
  apiQuotaPeriod: 'default usage plan: the quota period',
  apiStageRateLimit: 'stage-wide requests/s',
  apiStageBurstLimit: 'stage-wide burst',
  syncStepBudgetSeconds: 'steps expected to finish within N s answer synchronously',
  episodeQuotaPerMonth: 'episodes per tenant per calendar month (UTC), enforced by the api; 0 = unlimited',
  wafWebAclArn: 'regional WAFv2 web ACL ARN to associate with the stage',
  apiCloudWatchRole: 'create the account-level API Gateway CloudWatch role (true/false)',
  pricePerEpisodeUsd: 'price of one episode (usage cost estimates)',
  priceLambdaGbSecondUsd: 'Lambda price per GB-second',
  priceLambdaRequestUsd: 'Lambda price per request',
  batchSchedule: 'EventBridge Scheduler expression (cron(...), rate(...), at(...))',
  batchTimeZone: 'IANA time zone of the schedule',
  batchEnabled: 'schedule enabled (true/false)',
  abandonAfterHours: 'active episodes idle this long are auto-submitted by the batch run',
  batchMaxConcurrency: 'grading invocations (child workflows of the distributed map) at once',
  batchEpisodesPerInvocation: 'episodes per grading invocation',
  batchToleratedFailurePercent: 'failed grading invocations a run tolerates, in percent',
  batchMaxEpisodes: 'episodes per batch run before it continues in a new execution',
  alarmEmail: 'e-mail subscribed to the alarm topic',
  trainingP95AlarmSeconds: 'training p95 Duration alarm threshold in seconds',
  apiP95LatencyAlarmMs: 'API p95 latency alarm threshold in ms',
} as const;

export type ContextKey = keyof typeof CONTEXT_KEYS;

/** Reads one context value (e.g. `(key) => app.node.tryGetContext(key)`). */
export type ContextReader = (key: ContextKey) => unknown;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid deployment configuration (CDK context):\n  - ${problems.join('\n  - ')}`);
  }
}

const d = DEFAULT_CONFIG;

const BUILD_ARG_PAIR = `(${TRAINING_IMAGE_BUILD_ARGS.join('|')})=[^,\\s]+`;
const BUILD_ARGS_PATTERN = new RegExp(`^${BUILD_ARG_PAIR}(,${BUILD_ARG_PAIR})*$`);

/** `A=x,B=y` → {A: 'x', B: 'y'} (the text matched BUILD_ARGS_PATTERN). */
function buildArgsOf(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  return Object.fromEntries(text.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
}

/** How each context key is read: its schema (which says what it expects) and its default. */
const CONTEXT_SETTINGS = {
  prefix: withDefault(textMatching(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'a stack name prefix (letters, digits, hyphens; starts with a letter)'), d.prefix),
  retainData: withDefault(trueOrFalse, d.retainData),
  terminationProtection: withDefault(trueOrFalse, d.terminationProtection),
  dataEncryption: withDefault(oneOf(DATA_ENCRYPTIONS, (s) => s.toLowerCase()), d.dataEncryption),
  logRetentionDays: withDefault(numberAmong(LOG_RETENTION_DAYS), d.logRetentionDays as (typeof LOG_RETENTION_DAYS)[number]),
  logLevel: withDefault(oneOf(LOG_LEVELS, (s) => s.toUpperCase()), d.logLevel),
  metricsNamespace: withDefault(textMatching(/^[A-Za-z0-9._/#:-]{1,255}$/, 'a CloudWatch namespace'), d.metricsNamespace),
  episodeRetentionDays: withDefault(integerIn(1, 3650), d.episodeRetentionDays),
  checkpointExpirationDays: withDefault(integerIn(1, 3650), d.checkpointExpirationDays),
  checkpointNoncurrentDays: withDefault(integerIn(1, 3650), d.checkpointNoncurrentDays),
  accessLogExpirationDays: withDefault(integerIn(1, 3650), d.accessLogExpirationDays),
  trainingMemoryMb: withDefault(withNote(integerIn(MB_PER_VCPU, LAMBDA_MAX_MEMORY_MB), MEMORY_QUOTA_NOTE), d.training.memoryMb),
  trainingThreads: withDefault(integerIn(1, MAX_VCPUS), d.training.threads),
  trainingEphemeralStorageMb: withDefault(integerIn(512, 10240), d.training.ephemeralStorageMb),
  // Unreserved by default (d.training.reservedConcurrency): not given means none.
  trainingReservedConcurrency: optional(withNote(orNone(integerIn(1, 1000)), CONCURRENCY_QUOTA_NOTE)),
  trainingAsyncRetryAttempts: withDefault(integerIn(0, 2), d.training.asyncRetryAttempts),
  trainingMaxEventAgeMinutes: withDefault(integerIn(1, 360), d.training.maxEventAgeMinutes),
  tfjsNodeCdnStorage: optional(textMatching(/^https?:\/\/\S+$/, 'an http(s) URL')),
  trainingImageBuildHostNetwork: withDefault(trueOrFalse, d.training.imageBuildHostNetwork),
  trainingImageBuildArgs: optional(textMatching(BUILD_ARGS_PATTERN, `NAME=VALUE pairs separated by commas, NAME one of ${TRAINING_IMAGE_BUILD_ARGS.join(', ')}`)),
  apiStageName: withDefault(textMatching(/^[A-Za-z0-9_]{1,128}$/, 'a stage name (letters, digits, underscores)'), d.api.stageName),
  apiRateLimit: withDefault(numberIn(1, 10000), d.api.rateLimit),
  apiBurstLimit: withDefault(integerIn(1, 5000), d.api.burstLimit),
  apiQuotaLimit: withDefault(integerIn(1, 100_000_000), d.api.quotaLimit),
  apiQuotaPeriod: withDefault(oneOf(QUOTA_PERIODS, (s) => s.toUpperCase()), d.api.quotaPeriod),
  apiStageRateLimit: withDefault(numberIn(1, 10000), d.api.stageRateLimit),
  apiStageBurstLimit: withDefault(integerIn(1, 5000), d.api.stageBurstLimit),
  syncStepBudgetSeconds: withDefault(integerIn(1, 25), d.api.syncStepBudgetSeconds),
  episodeQuotaPerMonth: withDefault(integerIn(0, 10_000_000), d.api.episodeQuotaPerMonth),
  wafWebAclArn: optional(textMatching(/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/\S+$/, 'a regional WAFv2 web ACL ARN')),
  apiCloudWatchRole: withDefault(trueOrFalse, d.api.cloudWatchRole),
  pricePerEpisodeUsd: withDefault(numberIn(0, 1000), d.prices.perEpisodeUsd),
  priceLambdaGbSecondUsd: withDefault(numberIn(0, 1), d.prices.lambdaGbSecondUsd),
  priceLambdaRequestUsd: withDefault(numberIn(0, 1), d.prices.lambdaRequestUsd),
  batchSchedule: withDefault(
    textMatching(/^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/, 'cron(...), rate(...) or at(...)'),
    d.batch.schedule,
  ),
  batchTimeZone: withDefault(textMatching(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$/, 'an IANA time zone such as Etc/UTC or Europe/Paris'), d.batch.timeZone),
  batchEnabled: withDefault(trueOrFalse, d.batch.enabled),
  abandonAfterHours: withDefault(integerIn(1, 24 * 365), d.batch.abandonAfterHours),
  batchMaxConcurrency: withDefault(integerIn(1, 1000), d.batch.maxConcurrency),
  batchEpisodesPerInvocation: withDefault(integerIn(1, MAX_EPISODES_PER_INVOCATION), d.batch.episodesPerBatch),
  batchToleratedFailurePercent: withDefault(integerIn(0, 100), d.batch.toleratedFailurePercent),
  batchMaxEpisodes: withDefault(integerIn(100_000, 10_000_000), d.batch.maxEpisodesPerRun),
  alarmEmail: optional(textMatching(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address')),
  trainingP95AlarmSeconds: withDefault(integerIn(1, 900), d.alarms.trainingP95Seconds),
  apiP95LatencyAlarmMs: withDefault(integerIn(1, 29000), d.alarms.apiP95LatencyMs),
} satisfies Record<ContextKey, z.ZodType>;

type ContextSettings = z.output<z.ZodObject<typeof CONTEXT_SETTINGS>>;

/** The range a numeric context key accepts; undefined for the others. */
export function contextKeyRange(key: ContextKey): ValueRange | undefined {
  return rangeOf(CONTEXT_SETTINGS[key]);
}

/** A rule across settings is checked when each of them is valid on its own (else that one is reported). */
const eachValid =
  (...keys: ContextKey[]) =>
  (payload: { issues: readonly { path?: readonly PropertyKey[] }[] }): boolean =>
    !payload.issues.some((issue) => keys.includes(issue.path?.[0] as ContextKey));

/** Every context setting, and the rules that relate them. */
const CONTEXT_SCHEMA = z
  .object(CONTEXT_SETTINGS)
  .refine((s) => s.apiBurstLimit >= Math.ceil(s.apiRateLimit), {
    path: ['apiBurstLimit'],
    when: eachValid('apiRateLimit', 'apiBurstLimit'),
    error: ({ input }) => {
      const s = input as ContextSettings;
      return `apiBurstLimit (${s.apiBurstLimit}) must be at least apiRateLimit (${s.apiRateLimit})`;
    },
  })
  .refine((s) => s.trainingThreads <= vcpusFor(s.trainingMemoryMb), {
    path: ['trainingThreads'],
    when: eachValid('trainingMemoryMb', 'trainingThreads'),
    error: ({ input }) => {
      const s = input as ContextSettings;
      return (
        `trainingThreads (${s.trainingThreads}) must not exceed the vCPUs trainingMemoryMb (${s.trainingMemoryMb}) gives: ` +
        `Lambda gives one vCPU per ${MB_PER_VCPU} MB, so ${vcpusFor(s.trainingMemoryMb)} here; ` +
        `set -c trainingThreads=${vcpusFor(s.trainingMemoryMb)} or -c trainingMemoryMb=${minimumMemoryForVcpus(s.trainingThreads)} or more`
      );
    },
  })
  .refine((s) => s.checkpointExpirationDays >= s.episodeRetentionDays, {
    path: ['checkpointExpirationDays'],
    when: eachValid('episodeRetentionDays', 'checkpointExpirationDays'),
    error: ({ input }) => {
      const s = input as ContextSettings;
      return `checkpointExpirationDays (${s.checkpointExpirationDays}) must be at least episodeRetentionDays (${s.episodeRetentionDays}): a live episode must not lose its checkpoint`;
    },
  });

/**
 * One problem per setting: what it expects and the value given. A rule across settings
 * (a refinement, code "custom") carries its whole message.
 */
function problemsOf(error: z.ZodError, given: Record<ContextKey, unknown>): string[] {
  const problems = error.issues.map((issue) => {
    if (issue.code === 'custom') return issue.message;
    const key = issue.path[0] as ContextKey;
    const note = noteOf(CONTEXT_SETTINGS[key]);
    return `${key} must be ${CONTEXT_SETTINGS[key].description}, got ${JSON.stringify(given[key])}${note ? `. ${note}` : ''}`;
  });
  return [...new Set(problems)];
}

function deploymentConfig(s: ContextSettings, env: NodeJS.ProcessEnv): DeploymentConfig {
  return {
    prefix: s.prefix,
    retainData: s.retainData,
    terminationProtection: s.terminationProtection,
    dataEncryption: s.dataEncryption,
    logRetentionDays: s.logRetentionDays,
    logLevel: s.logLevel,
    metricsNamespace: s.metricsNamespace,
    episodeRetentionDays: s.episodeRetentionDays,
    checkpointExpirationDays: s.checkpointExpirationDays,
    checkpointNoncurrentDays: s.checkpointNoncurrentDays,
    accessLogExpirationDays: s.accessLogExpirationDays,
    training: {
      memoryMb: s.trainingMemoryMb,
      threads: s.trainingThreads,
      ephemeralStorageMb: s.trainingEphemeralStorageMb,
      reservedConcurrency: s.trainingReservedConcurrency,
      asyncRetryAttempts: s.trainingAsyncRetryAttempts,
      maxEventAgeMinutes: s.trainingMaxEventAgeMinutes,
      tfjsNodeCdnStorage: s.tfjsNodeCdnStorage ?? (env.TFJS_NODE_CDN_STORAGE?.trim() || undefined),
      imageBuildHostNetwork: s.trainingImageBuildHostNetwork,
      imageBuildArgs: buildArgsOf(s.trainingImageBuildArgs),
    },
    api: {
      stageName: s.apiStageName,
      rateLimit: s.apiRateLimit,
      burstLimit: s.apiBurstLimit,
      quotaLimit: s.apiQuotaLimit,
      quotaPeriod: s.apiQuotaPeriod,
      stageRateLimit: s.apiStageRateLimit,
      stageBurstLimit: s.apiStageBurstLimit,
      syncStepBudgetSeconds: s.syncStepBudgetSeconds,
      episodeQuotaPerMonth: s.episodeQuotaPerMonth,
      wafWebAclArn: s.wafWebAclArn,
      cloudWatchRole: s.apiCloudWatchRole,
    },
    prices: {
      perEpisodeUsd: s.pricePerEpisodeUsd,
      lambdaGbSecondUsd: s.priceLambdaGbSecondUsd,
      lambdaRequestUsd: s.priceLambdaRequestUsd,
    },
    batch: {
      schedule: s.batchSchedule,
      timeZone: s.batchTimeZone,
      enabled: s.batchEnabled,
      abandonAfterHours: s.abandonAfterHours,
      maxConcurrency: s.batchMaxConcurrency,
      episodesPerBatch: s.batchEpisodesPerInvocation,
      toleratedFailurePercent: s.batchToleratedFailurePercent,
      maxEpisodesPerRun: s.batchMaxEpisodes,
    },
    alarms: {
      email: s.alarmEmail,
      trainingP95Seconds: s.trainingP95AlarmSeconds,
      apiP95LatencyMs: s.apiP95LatencyAlarmMs,
    },
  };
}

/**
 * The configuration from CDK context, defaults for what is not given. `env` supplies
 * TFJS_NODE_CDN_STORAGE when the context does not. Throws a ConfigError listing every problem.
 */
export function configFromContext(read: ContextReader, env: NodeJS.ProcessEnv = process.env): DeploymentConfig {
  const keys = Object.keys(CONTEXT_KEYS) as ContextKey[];
  const given = Object.fromEntries(keys.map((key) => [key, read(key)])) as Record<ContextKey, unknown>;
  const parsed = CONTEXT_SCHEMA.safeParse(given);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error, given));
  return deploymentConfig(parsed.data, env);
}
