import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import type { BucketAccess, TableAccess } from '../constructs/permissions';
import { TABLE_INDEXES, TABLE_LAYOUT, type IndexLayout, type KeyAttribute, type KeyAttributeType } from '../../layers/storage/src';
import { acknowledge } from '../nag';

const ATTRIBUTE_TYPE: Record<KeyAttributeType, dynamodb.AttributeType> = {
  string: dynamodb.AttributeType.STRING,
  number: dynamodb.AttributeType.NUMBER,
};

function cdkAttribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPE[key.type] };
}

function cdkIndex(index: IndexLayout): dynamodb.GlobalSecondaryIndexProps {
  return {
    indexName: index.name,
    partitionKey: cdkAttribute(index.partitionKey),
    sortKey: cdkAttribute(index.sortKey),
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...index.projectedAttributes],
  };
}

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
    super(scope, id, { terminationProtection: props.config.retainData, ...props });
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

    this.table = new dynamodb.Table(this, 'Episodes', {
      partitionKey: cdkAttribute(TABLE_LAYOUT.partitionKey),
      sortKey: cdkAttribute(TABLE_LAYOUT.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_LAYOUT.ttlAttribute,
      ...(this.dataKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.dataKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      deletionProtection: config.retainData,
      removalPolicy,
    });
    for (const index of TABLE_INDEXES) this.table.addGlobalSecondaryIndex(cdkIndex(index));

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 delivers server access logs only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(config.accessLogExpirationDays) }],
      removalPolicy,
    });
    acknowledge(this.accessLogsBucket, 'AwsSolutions-S1', 'accessLogBucket');

    const dataBucket = (id: string, logPrefix: string, lifecycleRules: s3.LifecycleRule[]): s3.Bucket =>
      new s3.Bucket(this, id, {
        ...(this.dataKey
          ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.dataKey, bucketKeyEnabled: true }
          : { encryption: s3.BucketEncryption.S3_MANAGED }),
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        versioned: true,
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: logPrefix,
        lifecycleRules,
        removalPolicy,
      });

    const abortUploads: s3.LifecycleRule = { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) };

    this.datasetsBucket = dataBucket('Datasets', 'datasets/', [
      abortUploads,
      { id: 'expire-replaced-datasets', noncurrentVersionExpiration: Duration.days(30) },
    ]);
    this.checkpointsBucket = dataBucket('Checkpoints', 'checkpoints/', [
      abortUploads,
      {
        // Backstop only: episodes delete their checkpoints; whatever is left expires.
        id: 'expire-checkpoints',
        expiration: Duration.days(config.checkpointExpirationDays),
        noncurrentVersionExpiration: Duration.days(config.checkpointNoncurrentDays),
      },
      { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
    ]);
    this.reportsBucket = dataBucket('Reports', 'reports/', [
      abortUploads,
      { id: 'expire-replaced-reports', noncurrentVersionExpiration: Duration.days(90) },
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
