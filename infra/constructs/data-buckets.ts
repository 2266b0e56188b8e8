import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** What every bucket of the deployment enforces: private, owner-enforced, TLS 1.2 only. */
const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
} as const;

export interface AccessLogsBucketProps {
  expirationDays: number;
  removalPolicy: RemovalPolicy;
}

/** Where the data buckets' server access logs go (SSE-S3: S3 delivers access logs only to such buckets). */
export class AccessLogsBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: AccessLogsBucketProps) {
    super(scope, id, {
      ...PRIVATE_BUCKET,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.expirationDays) }],
      removalPolicy: props.removalPolicy,
    });
    acknowledge(this, 'AwsSolutions-S1', 'accessLogBucket');
  }
}

export interface DataBucketProps {
  /** The customer-managed key (with an S3 bucket key); absent: SSE-S3. */
  encryptionKey?: kms.IKey;
  accessLogs: s3.IBucket;
  /** The prefix of this bucket's access logs in accessLogs. */
  accessLogPrefix: string;
  /** Besides aborting incomplete multipart uploads after a day, which every data bucket does. */
  lifecycleRules: s3.LifecycleRule[];
  removalPolicy: RemovalPolicy;
}

/** A versioned, private, encrypted bucket of the deployment's data (datasets, checkpoints, reports). */
export class DataBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id, {
      ...PRIVATE_BUCKET,
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: props.accessLogPrefix,
      lifecycleRules: [{ id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) }, ...props.lifecycleRules],
      removalPolicy: props.removalPolicy,
    });
  }
}
