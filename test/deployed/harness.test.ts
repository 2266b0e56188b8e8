import { dynamodbCalls, type HttpRequestSummary, s3Calls } from './aws-calls';
import { decide, type Statement } from './iam-policy';
import { runExecution, StatesError } from './state-machine';

/** The harness's own parts, on their own (the as-deployed suite relies on them to fail when it should). */
const request = (method: string, url: string, headers: Record<string, string> = {}, body = ''): HttpRequestSummary => ({ method, url, headers, body: Buffer.from(body) });

describe('what IAM authorizes a request by', () => {
  it('S3: objects, listings, multipart parts and aborts, batch deletes and copies', () => {
    expect(s3Calls(request('GET', '/b?list-type=2&prefix=mnist%2F'))).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b' }]);
    expect(s3Calls(request('HEAD', '/b/a%20b/c.bin'))).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/a b/c.bin' }]);
    expect(s3Calls(request('POST', '/b/k?uploads'))).toEqual([{ action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }]);
    expect(s3Calls(request('PUT', '/b/k?partNumber=2&uploadId=u'))).toEqual([{ action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }]);
    expect(s3Calls(request('DELETE', '/b/k?uploadId=u'))).toEqual([{ action: 's3:AbortMultipartUpload', resource: 'arn:aws:s3:::b/k' }]);
    expect(s3Calls(request('POST', '/b?delete', {}, '<Delete><Object><Key>x/1</Key></Object><Object><Key>a&amp;b</Key></Object></Delete>'))).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/x/1' },
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/a&b' },
    ]);
    expect(s3Calls(request('PUT', '/b/to', { 'x-amz-copy-source': '/src/from%2Fkey' }))).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/to' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::src/from/key' },
    ]);
  });

  it('DynamoDB: the table, the index of a Query, every table of a batch', () => {
    const target = (op: string) => ({ 'x-amz-target': `DynamoDB_20120810.${op}` });
    expect(dynamodbCalls(request('POST', '/', target('Query'), JSON.stringify({ TableName: 't', IndexName: 'gsi_tenant' })))).toEqual([
      { action: 'dynamodb:Query', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/index/gsi_tenant' },
    ]);
    expect(dynamodbCalls(request('POST', '/', target('BatchWriteItem'), JSON.stringify({ RequestItems: { t: [], u: [] } }))).map((c) => c.resource)).toEqual([
      'arn:aws:dynamodb:us-east-1:123456789012:table/t',
      'arn:aws:dynamodb:us-east-1:123456789012:table/u',
    ]);
  });
});

describe('deciding a call against statements', () => {
  const allow = (actions: string[], resources: string[], extra: Partial<Statement> = {}): Statement => ({ effect: 'Allow', actions, resources, source: 'test', ...extra });

  it('matches action wildcards case-insensitively and resource wildcards exactly', () => {
    expect(decide([allow(['s3:Get*'], ['arn:aws:s3:::b/*'])], 's3:getobject', 'arn:aws:s3:::b/k/1').allowed).toBe(true);
    expect(decide([allow(['s3:Get*'], ['arn:aws:s3:::b/*'])], 's3:GetObject', 'arn:aws:s3:::b').allowed).toBe(false);
    expect(decide([allow(['dynamodb:Query'], ['arn:aws:dynamodb:r:a:table/t'])], 'dynamodb:Query', 'arn:aws:dynamodb:r:a:table/t/index/gsi').allowed).toBe(false);
  });

  it('lets an explicit Deny win and never trusts a statement it cannot evaluate', () => {
    expect(decide([allow(['s3:*'], ['*']), { ...allow(['s3:PutObject'], ['*']), effect: 'Deny' }], 's3:PutObject', 'arn:aws:s3:::b/k').allowed).toBe(false);
    expect(decide([allow(['s3:PutObject'], ['*'], { unsupported: 'Condition' })], 's3:PutObject', 'arn:aws:s3:::b/k').allowed).toBe(false);
  });
});

describe('the States Language interpreter', () => {
  const definition = {
    StartAt: 'Find',
    States: {
      Find: { Type: 'Task', Resource: 'arn:aws:lambda:r:a:function:find', Parameters: { 'run.$': '$$.Execution.Name', 'request.$': '$' }, ResultPath: '$.found', Next: 'Each' },
      Each: {
        Type: 'Map',
        ItemsPath: '$.found.items',
        ItemSelector: { 'item.$': '$$.Map.Item.Value' },
        MaxConcurrency: 2,
        ResultPath: '$.results',
        ItemProcessor: {
          StartAt: 'Odd?',
          States: {
            'Odd?': { Type: 'Choice', Choices: [{ Variable: '$.item.odd', BooleanEquals: true, Next: 'Work' }], Default: 'Skip' },
            Work: {
              Type: 'Task',
              Resource: 'arn:aws:lambda:r:a:function:work',
              Retry: [{ ErrorEquals: ['Lambda.ServiceException'], MaxAttempts: 2 }],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' }],
              End: true,
            },
            Skip: { Type: 'Pass', Result: 'skipped', End: true },
            Failed: { Type: 'Pass', Parameters: { 'error.$': '$.failure.Error' }, End: true },
          },
        },
        Next: 'Done',
      },
      Done: { Type: 'Succeed' },
    },
  };

  it('runs Task, Map, Choice, Pass, Retry and Catch with their paths', async () => {
    const calls: string[] = [];
    let flaky = 1;
    const invoke = async (arn: string, payload: any) => {
      calls.push(arn.split(':').pop()!);
      if (arn.endsWith(':find')) return { items: [{ n: 1, odd: true }, { n: 2, odd: false }, { n: 3, odd: true }] };
      if (payload.item.n === 1 && flaky-- > 0) throw new StatesError('Lambda.ServiceException', 'once');
      if (payload.item.n === 3) throw new StatesError('Error', 'broken');
      return { done: payload.item.n };
    };
    const { output, trace } = await runExecution(definition, { trigger: 'schedule' }, { name: 'run-1', startTime: new Date(0), invoke, stateMachineArn: 'arn:aws:states:r:a:stateMachine:m' });
    expect(output.results).toEqual([{ done: 1 }, 'skipped', { error: 'Error' }]);
    expect(calls.sort()).toEqual(['find', 'work', 'work', 'work']);
    expect(trace.states).toEqual(expect.arrayContaining(['Find', 'Each/Odd?', 'Each/Work', 'Each/Skip', 'Each/Failed', 'Done']));
  });

  it('refuses a state it does not implement instead of skipping it', async () => {
    const wait = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, End: true } } };
    await expect(runExecution(wait, {}, { name: 'n', startTime: new Date(0), invoke: async () => null, stateMachineArn: 'arn' })).rejects.toThrow(/unsupported state type Wait/);
  });
});
