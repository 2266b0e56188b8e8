import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { EPISODE_TABLE } from './episode-store';

/**
 * Creates the episodes table with its two GSIs if it does not exist, and waits until it is
 * ACTIVE. For the local servers (on AWS the CDK stack owns the table, its TTL and its
 * GSIs). Pay-per-request; both GSIs project only what listings need.
 */
export async function ensureEpisodeTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException) && (error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    const t = EPISODE_TABLE;
    try {
      await dynamodb.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: t.partitionKey, KeyType: 'HASH' },
            { AttributeName: t.sortKey, KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: t.partitionKey, AttributeType: 'S' },
            { AttributeName: t.sortKey, AttributeType: 'S' },
            { AttributeName: t.byTenantKeys.partition, AttributeType: 'S' },
            { AttributeName: t.byTenantKeys.sort, AttributeType: 'S' },
            { AttributeName: t.endedKeys.partition, AttributeType: 'S' },
            { AttributeName: t.endedKeys.sort, AttributeType: 'S' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: t.byTenantIndex,
              KeySchema: [
                { AttributeName: t.byTenantKeys.partition, KeyType: 'HASH' },
                { AttributeName: t.byTenantKeys.sort, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...t.summaryAttributes] },
            },
            {
              IndexName: t.endedIndex,
              KeySchema: [
                { AttributeName: t.endedKeys.partition, KeyType: 'HASH' },
                { AttributeName: t.endedKeys.sort, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...t.endedAttributes] },
            },
          ],
        }),
      );
    } catch (createError) {
      // Another process created it in between.
      if ((createError as { name?: string }).name !== 'ResourceInUseException') throw createError;
    }
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const output = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const table = output.Table;
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === undefined || i.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Table ${tableName} did not become ACTIVE.`);
}

/** Creates each bucket that does not exist yet. */
export async function ensureBuckets(s3: S3Client, buckets: readonly string[]): Promise<void> {
  for (const bucket of new Set(buckets)) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      continue;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw error;
    }
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (error) {
      if (!(error instanceof BucketAlreadyOwnedByYou) && (error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw error;
    }
  }
}
