/**
 * The deployment's configuration: every knob an operator can turn, its default, and how it
 * is read from CDK context (`cdk deploy -c trainingMemoryMb=8192`, or the `context` block of
 * cdk.json). Values given on the command line arrive as strings; cdk.json may hold numbers
 * and booleans. All problems are reported at once, before any construct is created.
 */

export type DataEncryption = 'aws-managed' | 'customer-managed';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

export interface TrainingConfig {
  /** Memory of the training Lambda (4096–10240 MB); vCPUs scale with it (6 vCPUs at 10240). */
  memoryMb: number;
  /** /tmp size (512–10240 MB): datasets and decoded subsets are cached there. */
  ephemeralStorageMb: number;
  /** Reserved concurrency of the training Lambda; undefined = unreserved (shares the account pool). */
  reservedConcurrency: number | undefined;
  /** Lambda retries of a failed asynchronous training step (0–2). */
  asyncRetryAttempts: number;
  /** How long an asynchronous step may wait for a free training Lambda (1–360 minutes). */
  maxEventAgeMinutes: number;
  /** Mirror for libtensorflow, passed to the image build as the TFJS_NODE_CDN_STORAGE build arg. */
  tfjsNodeCdnStorage: string | undefined;
  /** Build the image with `--network host` (a mirror on the build machine's loopback interface). */
  imageBuildHostNetwork: boolean;
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
  /** A step the api Lambda expects to finish within this many seconds runs synchronously (< 29 s). */
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
  /** Episodes graded in parallel (Map state maxConcurrency). */
  maxConcurrency: number;
  /** Upper bound of episodes one run handles (keeps state payloads under 256 KB); the rest wait for the next run. */
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
  dataEncryption: 'aws-managed',
  logRetentionDays: 30,
  logLevel: 'INFO',
  metricsNamespace: 'MlTrainerEnv',
  episodeRetentionDays: 30,
  checkpointExpirationDays: 45,
  checkpointNoncurrentDays: 7,
  accessLogExpirationDays: 365,
  training: {
    memoryMb: 10240,
    ephemeralStorageMb: 4096,
    reservedConcurrency: 10,
    asyncRetryAttempts: 0,
    maxEventAgeMinutes: 60,
    tfjsNodeCdnStorage: undefined,
    imageBuildHostNetwork: false,
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
  prices: {
    perEpisodeUsd: 0.1,
    lambdaGbSecondUsd: 0.0000166667,
    lambdaRequestUsd: 0.0000002,
  },
  batch: {
    schedule: 'cron(0 3 * * ? *)',
    timeZone: 'Etc/UTC',
    enabled: true,
    abandonAfterHours: 24,
    maxConcurrency: 5,
    maxEpisodesPerRun: 500,
  },
  alarms: {
    email: undefined,
    trainingP95Seconds: 720,
    apiP95LatencyMs: 25000,
  },
};

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Every context key the app reads, with what it sets (the README's table is generated from the same words). */
export const CONTEXT_KEYS = {
  prefix: 'stack name prefix',
  retainData: 'keep table, buckets and log groups on stack deletion (true/false)',
  dataEncryption: 'aws-managed | customer-managed',
  logRetentionDays: 'CloudWatch Logs retention in days',
  logLevel: 'DEBUG | INFO | WARN | ERROR',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  episodeRetentionDays: 'episode item TTL in days after the last write',
  checkpointExpirationDays: 'checkpoint objects expire after N days (backstop)',
  checkpointNoncurrentDays: 'noncurrent checkpoint versions expire after N days',
  accessLogExpirationDays: 'server access logs expire after N days',
  trainingMemoryMb: 'training Lambda memory, 4096–10240',
  trainingEphemeralStorageMb: 'training Lambda /tmp size, 512–10240',
  trainingReservedConcurrency: 'reserved concurrency of the training Lambda, or "none"',
  trainingAsyncRetryAttempts: 'Lambda retries of a failed async step, 0–2',
  trainingMaxEventAgeMinutes: 'max wait of an async step for a free Lambda, 1–360',
  tfjsNodeCdnStorage: 'libtensorflow mirror for the image build (else env TFJS_NODE_CDN_STORAGE)',
  trainingImageBuildHostNetwork: 'build the training image with --network host (mirror on loopback)',
  apiStageName: 'API Gateway stage name',
  apiRateLimit: 'default usage plan: requests/s per key',
  apiBurstLimit: 'default usage plan: burst per key',
  apiQuotaLimit: 'default usage plan: requests per key per period',
  apiQuotaPeriod: 'DAY | WEEK | MONTH',
  apiStageRateLimit: 'stage-wide requests/s',
  apiStageBurstLimit: 'stage-wide burst',
  syncStepBudgetSeconds: 'steps expected to finish within N s answer synchronously, 1–25',
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
  batchMaxConcurrency: 'episodes graded in parallel, 1–40',
  batchMaxEpisodes: 'episodes per batch run, 1–2000',
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

/**
 * The configuration from CDK context, defaults for what is not given. `env` supplies
 * TFJS_NODE_CDN_STORAGE when the context does not. Throws a ConfigError listing every problem.
 */
export function configFromContext(read: ContextReader, env: NodeJS.ProcessEnv = process.env): DeploymentConfig {
  const problems: string[] = [];
  const d = DEFAULT_CONFIG;

  const raw = (key: ContextKey): unknown => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' && value.trim() === '') return undefined;
    return value;
  };

  const num = (key: ContextKey, fallback: number, min: number, max: number, integer = true): number => {
    const value = raw(key);
    if (value === undefined) return fallback;
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      problems.push(`${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  };

  const bool = (key: ContextKey, fallback: boolean): boolean => {
    const value = raw(key);
    if (value === undefined) return fallback;
    if (value === true || value === false) return value;
    const text = String(value).trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
    problems.push(`${key} must be true or false, got ${JSON.stringify(value)}`);
    return fallback;
  };

  const text = (key: ContextKey, fallback: string, pattern: RegExp, what: string): string => {
    const value = raw(key);
    if (value === undefined) return fallback;
    const s = String(value).trim();
    if (!pattern.test(s)) {
      problems.push(`${key} must be ${what}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return s;
  };

  const optionalText = (key: ContextKey, pattern: RegExp, what: string): string | undefined => {
    const value = raw(key);
    if (value === undefined) return undefined;
    const s = String(value).trim();
    if (!pattern.test(s)) {
      problems.push(`${key} must be ${what}, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return s;
  };

  function oneOf<T extends string>(key: ContextKey, fallback: T, allowed: readonly T[], normalise: (s: string) => string = (s) => s): T {
    const value = raw(key);
    if (value === undefined) return fallback;
    const s = normalise(String(value).trim());
    if (!(allowed as readonly string[]).includes(s)) {
      problems.push(`${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return s as T;
  }

  const reservedConcurrency = (): number | undefined => {
    const value = raw('trainingReservedConcurrency');
    if (value === undefined) return d.training.reservedConcurrency;
    if (typeof value === 'string' && value.trim().toLowerCase() === 'none') return undefined;
    return num('trainingReservedConcurrency', d.training.reservedConcurrency ?? 10, 1, 1000);
  };

  const logRetentionDays = num('logRetentionDays', d.logRetentionDays, 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    problems.push(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${logRetentionDays}`);
  }

  const config: DeploymentConfig = {
    prefix: text('prefix', d.prefix, /^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'a stack name prefix (letters, digits, hyphens; starts with a letter)'),
    retainData: bool('retainData', d.retainData),
    dataEncryption: oneOf<DataEncryption>('dataEncryption', d.dataEncryption, ['aws-managed', 'customer-managed'], (s) => s.toLowerCase()),
    logRetentionDays,
    logLevel: oneOf<LogLevel>('logLevel', d.logLevel, ['DEBUG', 'INFO', 'WARN', 'ERROR'], (s) => s.toUpperCase()),
    metricsNamespace: text('metricsNamespace', d.metricsNamespace, /^[A-Za-z0-9._/#:-]{1,255}$/, 'a CloudWatch namespace'),
    episodeRetentionDays: num('episodeRetentionDays', d.episodeRetentionDays, 1, 3650),
    checkpointExpirationDays: num('checkpointExpirationDays', d.checkpointExpirationDays, 1, 3650),
    checkpointNoncurrentDays: num('checkpointNoncurrentDays', d.checkpointNoncurrentDays, 1, 3650),
    accessLogExpirationDays: num('accessLogExpirationDays', d.accessLogExpirationDays, 1, 3650),
    training: {
      memoryMb: num('trainingMemoryMb', d.training.memoryMb, 4096, 10240),
      ephemeralStorageMb: num('trainingEphemeralStorageMb', d.training.ephemeralStorageMb, 512, 10240),
      reservedConcurrency: reservedConcurrency(),
      asyncRetryAttempts: num('trainingAsyncRetryAttempts', d.training.asyncRetryAttempts, 0, 2),
      maxEventAgeMinutes: num('trainingMaxEventAgeMinutes', d.training.maxEventAgeMinutes, 1, 360),
      tfjsNodeCdnStorage:
        optionalText('tfjsNodeCdnStorage', /^https?:\/\/\S+$/, 'an http(s) URL') ??
        (env.TFJS_NODE_CDN_STORAGE?.trim() ? env.TFJS_NODE_CDN_STORAGE.trim() : undefined),
      imageBuildHostNetwork: bool('trainingImageBuildHostNetwork', d.training.imageBuildHostNetwork),
    },
    api: {
      stageName: text('apiStageName', d.api.stageName, /^[A-Za-z0-9_]{1,128}$/, 'a stage name (letters, digits, underscores)'),
      rateLimit: num('apiRateLimit', d.api.rateLimit, 1, 10000, false),
      burstLimit: num('apiBurstLimit', d.api.burstLimit, 1, 5000),
      quotaLimit: num('apiQuotaLimit', d.api.quotaLimit, 1, 100_000_000),
      quotaPeriod: oneOf<QuotaPeriod>('apiQuotaPeriod', d.api.quotaPeriod, ['DAY', 'WEEK', 'MONTH'], (s) => s.toUpperCase()),
      stageRateLimit: num('apiStageRateLimit', d.api.stageRateLimit, 1, 10000, false),
      stageBurstLimit: num('apiStageBurstLimit', d.api.stageBurstLimit, 1, 5000),
      syncStepBudgetSeconds: num('syncStepBudgetSeconds', d.api.syncStepBudgetSeconds, 1, 25),
      episodeQuotaPerMonth: num('episodeQuotaPerMonth', d.api.episodeQuotaPerMonth, 0, 10_000_000),
      wafWebAclArn: optionalText('wafWebAclArn', /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/\S+$/, 'a regional WAFv2 web ACL ARN'),
      cloudWatchRole: bool('apiCloudWatchRole', d.api.cloudWatchRole),
    },
    prices: {
      perEpisodeUsd: num('pricePerEpisodeUsd', d.prices.perEpisodeUsd, 0, 1000, false),
      lambdaGbSecondUsd: num('priceLambdaGbSecondUsd', d.prices.lambdaGbSecondUsd, 0, 1, false),
      lambdaRequestUsd: num('priceLambdaRequestUsd', d.prices.lambdaRequestUsd, 0, 1, false),
    },
    batch: {
      schedule: text('batchSchedule', d.batch.schedule, /^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/, 'cron(...), rate(...) or at(...)'),
      timeZone: text('batchTimeZone', d.batch.timeZone, /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$/, 'an IANA time zone such as Etc/UTC or Europe/Paris'),
      enabled: bool('batchEnabled', d.batch.enabled),
      abandonAfterHours: num('abandonAfterHours', d.batch.abandonAfterHours, 1, 24 * 365),
      maxConcurrency: num('batchMaxConcurrency', d.batch.maxConcurrency, 1, 40),
      maxEpisodesPerRun: num('batchMaxEpisodes', d.batch.maxEpisodesPerRun, 1, 2000),
    },
    alarms: {
      email: optionalText('alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address'),
      trainingP95Seconds: num('trainingP95AlarmSeconds', d.alarms.trainingP95Seconds, 1, 900),
      apiP95LatencyMs: num('apiP95LatencyAlarmMs', d.alarms.apiP95LatencyMs, 1, 29000),
    },
  };

  if (config.api.burstLimit < Math.ceil(config.api.rateLimit)) {
    problems.push(`apiBurstLimit (${config.api.burstLimit}) must be at least apiRateLimit (${config.api.rateLimit})`);
  }
  if (config.checkpointExpirationDays < config.episodeRetentionDays) {
    problems.push(
      `checkpointExpirationDays (${config.checkpointExpirationDays}) must be at least episodeRetentionDays (${config.episodeRetentionDays}): a live episode must not lose its checkpoint`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
