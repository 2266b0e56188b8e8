import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { AccessLogsBucket, DataBucket } from '../constructs/data-buckets';
import { EpisodesTable } from '../constructs/episodes-table';
import type { BucketAccess, TableAccess } from '../constructs/permissions';
import { BATCH_RUN_FILES_DAYS, BATCH_RUNS_PREFIX } from '../../layers/cloud/src';

export interface DataStackProps extends StackProps {
  config: DeploymentConfig;
}

/**
 * Everything stateful: the episodes table and the datasets, checkpoints and reports buckets
 * (plus the bucket their server access logs go to). Retained on stack deletion by default.
 */
export class DataStack extends Stack {
  readonly table: dynamodb.Table;
  readonly datasetsBucket: s3.Bucket;
  readonly checkpointsBucket: s3.Bucket;
  readonly reportsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  /** The customer-managed key of table and buckets (dataEncryption=customer-managed only). */
  readonly dataKey: kms.Key | undefined;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    // Opt-in: a protected stack makes `cdk destroy --all` fail (retainData already keeps the data).
    super(scope, id, { terminationProtection: props.config.terminationProtection, ...props });
    const { config } = props;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.dataKey =
      config.dataEncryption === 'customer-managed'
        ? new kms.Key(this, 'DataKey', {
            description: 'ml-trainer-env: episodes table and data buckets',
            enableKeyRotation: true,
            removalPolicy,
          })
        : undefined;
    const encryptionKey = this.dataKey ? { encryptionKey: this.dataKey } : {};

    this.table = new EpisodesTable(this, 'Episodes', { ...encryptionKey, retain: config.retainData });
    this.accessLogsBucket = new AccessLogsBucket(this, 'AccessLogs', { expirationDays: config.accessLogExpirationDays, removalPolicy });
    const dataBucket = (id: string, accessLogPrefix: string, lifecycleRules: s3.LifecycleRule[]) =>
      new DataBucket(this, id, { ...encryptionKey, accessLogs: this.accessLogsBucket, accessLogPrefix, lifecycleRules, removalPolicy });

    this.datasetsBucket = dataBucket('Datasets', 'datasets/', [{ id: 'expire-replaced-datasets', noncurrentVersionExpiration: Duration.days(30) }]);
    this.checkpointsBucket = dataBucket('Checkpoints', 'checkpoints/', [
      {
        // Backstop only: episodes delete their checkpoints; whatever is left expires.
        id: 'expire-checkpoints',
        expiration: Duration.days(config.checkpointExpirationDays),
        noncurrentVersionExpiration: Duration.days(config.checkpointNoncurrentDays),
      },
      { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
    ]);
    this.reportsBucket = dataBucket('Reports', 'reports/', [
      { id: 'expire-replaced-reports', noncurrentVersionExpiration: Duration.days(90) },
      // A batch run's manifest and its map's result files (issue 17): working files, kept to look into a run, then gone.
      { id: 'expire-batch-run-files', prefix: BATCH_RUNS_PREFIX, expiration: Duration.days(BATCH_RUN_FILES_DAYS), noncurrentVersionExpiration: Duration.days(1) },
    ]);

    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'Episodes table (EPISODES_TABLE)' });
    new CfnOutput(this, 'DatasetsBucketName', {
      value: this.datasetsBucket.bucketName,
      description: 'Datasets bucket (DATA_BUCKET): upload the dataset files here before the first episode',
    });
    new CfnOutput(this, 'CheckpointsBucketName', { value: this.checkpointsBucket.bucketName, description: 'Checkpoints bucket (CHECKPOINT_BUCKET)' });
    new CfnOutput(this, 'ReportsBucketName', { value: this.reportsBucket.bucketName, description: 'Batch reports and leaderboards (REPORTS_BUCKET)' });
    new CfnOutput(this, 'AccessLogsBucketName', { value: this.accessLogsBucket.bucketName, description: 'S3 server access logs of the three buckets' });
  }

  /**
   * The variables the storage layer reads (layers/storage/src/config.ts, storageConfigFromEnv);
   * every function gets them, whether or not it is granted all three resources.
   */
  storageEnvironment(config: DeploymentConfig): Record<string, string> {
    return {
      EPISODES_TABLE: this.table.tableName,
      CHECKPOINT_BUCKET: this.checkpointsBucket.bucketName,
      DATA_BUCKET: this.datasetsBucket.bucketName,
      EPISODE_RETENTION_DAYS: String(config.episodeRetentionDays),
    };
  }

  tableAccess(indexes: readonly string[] = []): TableAccess {
    return { table: this.table, indexes, ...(this.dataKey ? { key: this.dataKey } : {}) };
  }

  bucketAccess(bucket: s3.IBucket): BucketAccess {
    return { bucket, ...(this.dataKey ? { key: this.dataKey } : {}) };
  }
}
