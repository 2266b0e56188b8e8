import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** Where episodes, checkpoints and data live, on AWS or on the local servers. */
export interface StorageConfig {
  region: string;
  /** The episodes table (one item per episode; GSIs by tenant and by end time). */
  tableName: string;
  /** Trainer checkpoints (`checkpoints/<tenant>/<episode>/…`). */
  checkpointBucket: string;
  /** Datasets (and reports, where no reports bucket is named). */
  dataBucket: string;
  /** Batch reports and leaderboards; optional (REPORTS_BUCKET), defaults to dataBucket. */
  reportsBucket?: string;
  /** How long an episode is kept after its last write (the item's TTL attribute). */
  retentionSeconds: number;
  /**
   * True for dynalite and s3rver: path-style S3 addressing, dummy credentials, and
   * checksums only where an operation requires them (with the SDK's default checksums a
   * streamed upload to s3rver is stored with its aws-chunked framing as content).
   * False for AWS: SDK defaults throughout.
   */
  localEndpoint: boolean;
  /** Endpoint overrides (the local servers); unset on AWS. */
  dynamodbEndpoint?: string;
  s3Endpoint?: string;
}

export interface StorageClients {
  dynamodb: DynamoDBClient;
  /** Document client over `dynamodb` (plain JavaScript values, undefined values removed). */
  documents: DynamoDBDocumentClient;
  s3: S3Client;
  /** Closes the clients' sockets. */
  destroy(): void;
}

export const DEFAULT_RETENTION_DAYS = 30;
const DAY_SECONDS = 86_400;

/** Credentials the local servers accept (s3rver checks signatures made with S3RVER/S3RVER). */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export function createStorageClients(config: StorageConfig): StorageClients {
  const dynamoConfig: DynamoDBClientConfig = { region: config.region };
  const s3Config: S3ClientConfig = { region: config.region };
  if (config.dynamodbEndpoint) dynamoConfig.endpoint = config.dynamodbEndpoint;
  if (config.s3Endpoint) s3Config.endpoint = config.s3Endpoint;
  if (config.localEndpoint) {
    dynamoConfig.credentials = LOCAL_CREDENTIALS;
    Object.assign(s3Config, {
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } satisfies S3ClientConfig);
  }
  const dynamodb = new DynamoDBClient(dynamoConfig);
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    // convertClassInstanceToMap: the marshaller takes any object whose `constructor` is not
    // Object for a class instance, and the results map is keyed by request_ids, which may
    // spell "constructor". We store no class instances (binary values are Uint8Arrays,
    // which it handles first), so this only lets such a key through.
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    unmarshallOptions: { wrapNumbers: false },
  });
  const s3 = new S3Client(s3Config);
  return {
    dynamodb,
    documents,
    s3,
    destroy() {
      documents.destroy();
      dynamodb.destroy();
      s3.destroy();
    },
  };
}

/** Environment variables the Lambdas are configured with (see storageConfigFromEnv). */
export const STORAGE_ENV = {
  tableName: 'EPISODES_TABLE',
  checkpointBucket: 'CHECKPOINT_BUCKET',
  dataBucket: 'DATA_BUCKET',
  reportsBucket: 'REPORTS_BUCKET',
  retentionDays: 'EPISODE_RETENTION_DAYS',
  /** Optional: endpoints of compatible local servers; set LOCAL_ENDPOINT=1 with them. */
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  s3Endpoint: 'S3_ENDPOINT',
  localEndpoint: 'LOCAL_ENDPOINT',
} as const;

/**
 * The real-AWS configuration from the environment: EPISODES_TABLE, CHECKPOINT_BUCKET,
 * DATA_BUCKET, AWS_REGION (or AWS_DEFAULT_REGION; the Lambda runtime sets AWS_REGION),
 * optional REPORTS_BUCKET and EPISODE_RETENTION_DAYS (default 30). Throws one error naming every missing
 * or malformed variable.
 */
export function storageConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is not set`);
    return value ?? '';
  };
  const tableName = required(STORAGE_ENV.tableName);
  const checkpointBucket = required(STORAGE_ENV.checkpointBucket);
  const dataBucket = required(STORAGE_ENV.dataBucket);
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || '';
  if (!region) problems.push('AWS_REGION (or AWS_DEFAULT_REGION) is not set');
  let retentionDays = DEFAULT_RETENTION_DAYS;
  const retentionText = env[STORAGE_ENV.retentionDays]?.trim();
  if (retentionText) {
    retentionDays = Number(retentionText);
    if (!Number.isFinite(retentionDays) || retentionDays <= 0) {
      problems.push(`${STORAGE_ENV.retentionDays} must be a positive number of days, got ${JSON.stringify(retentionText)}`);
    }
  }
  const localText = env[STORAGE_ENV.localEndpoint]?.trim().toLowerCase();
  const localEndpoint = localText === '1' || localText === 'true';
  if (problems.length > 0) throw new Error(`Storage configuration: ${problems.join('; ')}.`);
  const config: StorageConfig = {
    region,
    tableName,
    checkpointBucket,
    dataBucket,
    retentionSeconds: Math.round(retentionDays * DAY_SECONDS),
    localEndpoint,
  };
  const reportsBucket = env[STORAGE_ENV.reportsBucket]?.trim();
  if (reportsBucket) config.reportsBucket = reportsBucket;
  const dynamodbEndpoint = env[STORAGE_ENV.dynamodbEndpoint]?.trim();
  const s3Endpoint = env[STORAGE_ENV.s3Endpoint]?.trim();
  if (dynamodbEndpoint) config.dynamodbEndpoint = dynamodbEndpoint;
  if (s3Endpoint) config.s3Endpoint = s3Endpoint;
  return config;
}

export function retentionSecondsOfDays(days: number): number {
  return Math.round(days * DAY_SECONDS);
}
