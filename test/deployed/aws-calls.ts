import { LOCAL_ACCOUNT, LOCAL_REGION } from './template-model';

/**
 * What IAM authorizes for one HTTP request an SDK client sent: the action(s) and the
 * resource ARN(s), per the service authorization references of DynamoDB (X-Amz-Target and
 * the table / index in the body), S3 (method, path-style bucket and key, sub-resource query)
 * and Lambda (the Invoke API's path). A request this does not recognise is reported as such
 * (action `unknown:<...>`), so that it cannot pass unchecked.
 */
export interface AuthorizedCall {
  action: string;
  resource: string;
}

export interface HttpRequestSummary {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type Service = 'dynamodb' | 's3' | 'lambda' | 'states';

export function serviceOf(request: HttpRequestSummary): Service {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('DynamoDB_')) return 'dynamodb';
  if (/^\/2015-03-31\/functions\//.test(new URL(request.url, 'http://local').pathname)) return 'lambda';
  return 's3';
}

const tableArn = (nameOrArn: string) => (nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${nameOrArn}`);

const TRANSACT_ACTIONS: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };

export function dynamodbCalls(request: HttpRequestSummary): AuthorizedCall[] {
  const operation = String(request.headers['x-amz-target']).split('.')[1]!;
  const body = JSON.parse(request.body.toString('utf8') || '{}') as Record<string, any>;
  const action = `dynamodb:${operation}`;
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys(body.RequestItems ?? {}).map((table) => ({ action, resource: tableArn(table) }));
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    return (body.TransactItems ?? []).flatMap((item: Record<string, any>) =>
      Object.entries(item).map(([kind, spec]) => ({ action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`, resource: tableArn(spec.TableName) })),
    );
  }
  if (typeof body.TableName !== 'string') return [{ action, resource: '*' }];
  const table = tableArn(body.TableName);
  return [{ action, resource: typeof body.IndexName === 'string' ? `${table}/index/${body.IndexName}` : table }];
}

const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

function copySource(request: HttpRequestSummary): AuthorizedCall[] {
  const source = request.headers['x-amz-copy-source'];
  if (typeof source !== 'string') return [];
  const [bucket, ...key] = decodeURIComponent(source.replace(/^\//, '').split('?')[0]!).split('/');
  return [{ action: 's3:GetObject', resource: objectArn(bucket!, key.join('/')) }];
}

export function s3Calls(request: HttpRequestSummary): AuthorizedCall[] {
  const url = new URL(request.url, 'http://local');
  const [bucketPart, ...keyParts] = url.pathname.replace(/^\//, '').split('/');
  const bucket = decodeURIComponent(bucketPart ?? '');
  const key = keyParts.map(decodeURIComponent).join('/');
  const q = url.searchParams;
  const method = request.method.toUpperCase();
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (keyParts.length === 0 || key === '') {
    if (method === 'GET' && q.has('uploads')) return [{ action: 's3:ListBucketMultipartUploads', resource: bucketArn }];
    if (method === 'GET' && q.has('location')) return [{ action: 's3:GetBucketLocation', resource: bucketArn }];
    if (method === 'GET' && q.has('versions')) return [{ action: 's3:ListBucketVersions', resource: bucketArn }];
    if (method === 'GET' || method === 'HEAD') return [{ action: 's3:ListBucket', resource: bucketArn }];
    if (method === 'POST' && q.has('delete')) {
      const keys = [...request.body.toString('utf8').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
      return keys.map((k) => ({ action: 's3:DeleteObject', resource: objectArn(bucket, k) }));
    }
    if (method === 'PUT') return [{ action: 's3:CreateBucket', resource: bucketArn }];
    if (method === 'DELETE') return [{ action: 's3:DeleteBucket', resource: bucketArn }];
    return [{ action: `unknown:s3 ${method} ${url.pathname}${url.search}`, resource: bucketArn }];
  }
  const object = objectArn(bucket, key);
  if (q.has('tagging')) return [{ action: method === 'GET' ? 's3:GetObjectTagging' : method === 'DELETE' ? 's3:DeleteObjectTagging' : 's3:PutObjectTagging', resource: object }];
  if (method === 'GET' || method === 'HEAD') return [{ action: q.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject', resource: object }];
  if (method === 'PUT' || method === 'POST') return [{ action: 's3:PutObject', resource: object }, ...copySource(request)];
  if (method === 'DELETE') return [{ action: q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', resource: object }];
  return [{ action: `unknown:s3 ${method} ${url.pathname}${url.search}`, resource: object }];
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** The function a Lambda Invoke request names (a name, a full or partial ARN), and its qualifier. */
export function invokedFunction(request: HttpRequestSummary): { name: string; invocationType: string } {
  const url = new URL(request.url, 'http://local');
  const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
  if (!match) throw new Error(`not a Lambda Invoke request: ${request.method} ${url.pathname}`);
  const type = request.headers['x-amz-invocation-type'];
  return { name: decodeURIComponent(match[1]!), invocationType: typeof type === 'string' ? type : 'RequestResponse' };
}

export function lambdaCalls(request: HttpRequestSummary, functionArn: (name: string) => string): AuthorizedCall[] {
  return [{ action: 'lambda:InvokeFunction', resource: functionArn(invokedFunction(request).name) }];
}
