import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { keyAttributes, TABLE_INDEXES, TABLE_LAYOUT, type KeyAttribute } from './table-layout';

const ATTRIBUTE_TYPE = { string: 'S', number: 'N' } as const;

function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    { AttributeName: sortKey.name, KeyType: 'RANGE' },
  ];
}

/** The CreateTable input of the episodes table, from the table layout (pay-per-request). */
export function episodeTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: keySchema(TABLE_LAYOUT.partitionKey, TABLE_LAYOUT.sortKey),
    AttributeDefinitions: keyAttributes().map((key) => ({ AttributeName: key.name, AttributeType: ATTRIBUTE_TYPE[key.type] })),
    GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
      IndexName: index.name,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projectedAttributes] },
    })),
  };
}

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | null)?.name === name;
}

/**
 * Creates the episodes table with its indexes if it does not exist, and waits until it is
 * ACTIVE. For the local servers (on AWS the CDK stack owns the table, its TTL and its
 * indexes); dynalite turns the indexes ACTIVE together with the table.
 */
export async function ensureEpisodeTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException) && !isNamed(error, 'ResourceNotFoundException')) throw error;
    try {
      await dynamodb.send(new CreateTableCommand(episodeTableDefinition(tableName)));
    } catch (createError) {
      // Another process created it in between.
      if (!isNamed(createError, 'ResourceInUseException')) throw createError;
    }
  }
  // Delays in seconds: the local servers create a table in milliseconds.
  await waitUntilTableExists({ client: dynamodb, minDelay: 0.025, maxDelay: 0.5, maxWaitTime: 30 }, { TableName: tableName });
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
      if (!(error instanceof BucketAlreadyOwnedByYou) && !isNamed(error, 'BucketAlreadyOwnedByYou')) throw error;
    }
  }
}
