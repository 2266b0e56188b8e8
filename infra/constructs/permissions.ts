import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../nag';

/**
 * Least-privilege grants written out action by action (the CDK `grant*` helpers add
 * wildcard actions such as `s3:GetObject*` or `kms:GenerateDataKey*`). Every statement
 * goes onto the grantee's identity policy, so a grant across stacks never edits a
 * resource policy in the producing stack (no dependency cycle).
 */

export interface TableAccess {
  table: dynamodb.ITable;
  /** The GSI names the grantee may query. */
  indexes: readonly string[];
  /** The table's customer-managed key, if any. */
  key?: kms.IKey;
}

const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;
const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem'] as const;

/** A DynamoDB item action this module grants. */
export type TableAction = (typeof TABLE_READ_ACTIONS)[number] | (typeof TABLE_WRITE_ACTIONS)[number];

const isWrite = (action: TableAction): boolean => (TABLE_WRITE_ACTIONS as readonly string[]).includes(action);

export function allowTableRead(grantee: iam.IGrantable, access: TableAccess): void {
  addTableStatements(grantee, access, TABLE_READ_ACTIONS);
  if (access.key) allowKeyUse(grantee, access.key, 'read');
}

export function allowTableReadWrite(grantee: iam.IGrantable, access: TableAccess): void {
  addTableStatements(grantee, access, [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS]);
  if (access.key) allowKeyUse(grantee, access.key, 'readwrite');
}

/**
 * Exactly `actions` on the table, for a grantee whose code makes only these calls (the
 * indexes, if any, may be queried: give Query then); the key for reading, and for writing
 * when an action writes.
 */
export function allowTableActions(grantee: iam.IGrantable, access: TableAccess, actions: readonly TableAction[]): void {
  addTableStatements(grantee, access, actions);
  if (access.key) allowKeyUse(grantee, access.key, actions.some(isWrite) ? 'readwrite' : 'read');
}

function addTableStatements(grantee: iam.IGrantable, access: TableAccess, actions: readonly TableAction[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...actions], resources: [access.table.tableArn] }),
  );
  if (access.indexes.length > 0) {
    if (!actions.includes('dynamodb:Query')) throw new Error('Indexes are only queried: grant dynamodb:Query with them.');
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: access.indexes.map((name) => `${access.table.tableArn}/index/${name}`),
      }),
    );
  }
}

export interface BucketAccess {
  bucket: s3.IBucket;
  /** The bucket's customer-managed key, if any. */
  key?: kms.IKey;
}

/** GetObject (and HeadObject) on the objects (under `prefix`, if given), ListBucket on the bucket (a missing key then answers 404, not 403). */
export function allowObjectsRead(grantee: iam.IGrantable, access: BucketAccess, prefix = ''): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objectsOf(grantee, access.bucket, prefix)] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [access.bucket.bucketArn] }),
  );
  if (access.key) allowKeyUse(grantee, access.key, 'read');
}

/** Read plus PutObject (multipart uploads included), AbortMultipartUpload and DeleteObject. */
export function allowObjectsReadWrite(grantee: iam.IGrantable, access: BucketAccess): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
      resources: [objectsOf(grantee, access.bucket)],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [access.bucket.bucketArn] }),
  );
  if (access.key) allowKeyUse(grantee, access.key, 'readwrite');
}

/** PutObject (multipart uploads included) and AbortMultipartUpload only, on the objects (under `prefix`, if given). */
export function allowObjectsWrite(grantee: iam.IGrantable, access: BucketAccess, prefix = ''): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [objectsOf(grantee, access.bucket, prefix)] }),
  );
  // Multipart uploads decrypt the parts they assemble, so a writer needs Decrypt as well.
  if (access.key) allowKeyUse(grantee, access.key, 'readwrite');
}

/**
 * ListBucket on the bucket and DeleteObject on the objects under a key prefix, nothing else
 * (no read, no write, so no key use): the batch's orphan-checkpoint sweep lists and deletes.
 */
export function allowObjectsListDelete(grantee: iam.IGrantable, access: BucketAccess, prefix: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [objectsOf(grantee, access.bucket, prefix)] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [access.bucket.bucketArn] }),
  );
}

/** `<bucket ARN>/<prefix>*`, with the cdk-nag IAM5 finding for exactly this resource acknowledged on the grantee. */
function objectsOf(grantee: iam.IGrantable, bucket: s3.IBucket, prefix = ''): string {
  const resource = bucket.arnForObjects(`${prefix}*`);
  if (Construct.isConstruct(grantee.grantPrincipal)) acknowledgeWildcardResource(grantee.grantPrincipal, resource, 'objectWildcard');
  return resource;
}

/** Exactly the key actions a reader (or a writer) of the key's data calls; no wildcard actions (unlike IKey.grantEncryptDecrypt). */
export function allowKeyUse(grantee: iam.IGrantable, key: kms.IKey, mode: 'read' | 'readwrite'): void {
  const actions = mode === 'read' ? ['kms:Decrypt', 'kms:DescribeKey'] : ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [key.keyArn] }));
}

/** lambda:InvokeFunction on exactly this function (no `:*` qualifier wildcard; callers invoke $LATEST). */
export function allowInvoke(grantee: iam.IGrantable, functionArn: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [functionArn] }));
}
