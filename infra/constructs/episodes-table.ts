import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { TABLE_INDEXES, TABLE_LAYOUT, type IndexLayout, type KeyAttribute, type KeyAttributeType } from '../../layers/storage/src';

export interface EpisodesTableProps {
  /** The customer-managed key; absent: AWS-managed encryption. */
  encryptionKey?: kms.IKey;
  /** Keep the table (and refuse its deletion) when the stack goes. */
  retain: boolean;
}

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

/**
 * The episodes table as the storage layer lays it out (layers/storage/src/table-layout.ts:
 * keys, indexes, projections, TTL): on demand, point-in-time recovery, encrypted.
 */
export class EpisodesTable extends dynamodb.Table {
  constructor(scope: Construct, id: string, props: EpisodesTableProps) {
    super(scope, id, {
      partitionKey: cdkAttribute(TABLE_LAYOUT.partitionKey),
      sortKey: cdkAttribute(TABLE_LAYOUT.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_LAYOUT.ttlAttribute,
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of TABLE_INDEXES) this.addGlobalSecondaryIndex(cdkIndex(index));
  }
}
