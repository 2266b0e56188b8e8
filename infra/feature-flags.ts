/**
 * CDK feature flags this app is written against. They are passed as the App's default
 * context, so cdk.json (or -c) can still override one; the lead may move them into cdk.json
 * (what `cdk init` does). Pinned on purpose, not `CURRENTLY_RECOMMENDED_FLAGS`: a new
 * aws-cdk-lib must not change the synthesised resources without a review of this list.
 */
export const FEATURE_FLAGS: Record<string, unknown> = {
  // Server access log delivery is granted by a bucket policy on the log bucket, not by ACLs.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:publicAccessBlockedByDefault': true,
  // RestApi creates no CloudWatch role unless asked (the api stack asks, see apiCloudWatchRole).
  '@aws-cdk/aws-apigateway:disableCloudWatchRole': true,
  '@aws-cdk/aws-apigateway:requestValidatorUniqueId': true,
  '@aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-iam:importedRoleStackSafeDefaultPolicyName': true,
  '@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/core:checkSecretUsage': true,
  // DistributedMap renders resultWriterV2 (WriterConfig: FLATTEN, JSONL) only with this flag; the batch run needs it.
  '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2': true,
  // Cross-stack references stay CloudFormation exports/imports (what CDK has always done; the
  // producer cannot be deleted or change an exported value while a consumer imports it).
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};
