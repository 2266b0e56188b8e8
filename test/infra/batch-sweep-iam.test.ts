import { BATCH_TABLE_ACTIONS } from '../../infra/stacks/batch-stack';
import { BATCH_RUNS_PREFIX } from '../../layers/cloud/src';
import { nagAnnotations, resourcesOf, synthesize, SKIP_BUNDLING, type Synthesized } from './synth';

/**
 * Issue 12, item 9: the batch's write-report function sweeps orphan checkpoints, so its role
 * may list the checkpoint bucket and delete objects under checkpoints/, and nothing else
 * there (no read, no write); the other batch functions get nothing of that bucket.
 */

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ context: SKIP_BUNDLING });
});
afterAll(() => synth?.cleanup());

function statementsOf(rolePrefix: string): any[] {
  const policies = Object.values(resourcesOf(synth.templates.batch, 'AWS::IAM::Policy')).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(rolePrefix),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
}

const actionsOf = (statements: any[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
const onCheckpoints = (statements: any[]) => statements.filter((s) => JSON.stringify(s.Resource).includes('Checkpoints'));

test('write-report may list the checkpoint bucket and delete under checkpoints/ only', () => {
  const checkpoints = onCheckpoints(statementsOf('WriteReport'));
  expect(actionsOf(checkpoints).sort()).toEqual(['s3:DeleteObject', 's3:ListBucket']);
  const deletion = checkpoints.find((s) => s.Action === 's3:DeleteObject')!;
  expect(JSON.stringify(deletion.Resource)).toContain('/checkpoints/*');
  expect(nagAnnotations(synth, 'batch')).toEqual([]);
});

test('find-episodes and grade-batch get nothing of the checkpoint bucket', () => {
  expect(onCheckpoints(statementsOf('FindEpisodes'))).toEqual([]);
  expect(onCheckpoints(statementsOf('GradeBatch'))).toEqual([]);
});

/**
 * Issue 13: each batch function holds only the DynamoDB and S3 actions its code calls
 * (BATCH_TABLE_ACTIONS says which call needs which); pinned here, action by action.
 */
describe('batch IAM: the calls made, nothing more', () => {
  const tableActions = (rolePrefix: string) =>
    [...new Set(actionsOf(statementsOf(rolePrefix)).filter((a: string) => a.startsWith('dynamodb:')))].sort();
  const s3Actions = (rolePrefix: string, bucket: string) =>
    [...new Set(actionsOf(statementsOf(rolePrefix).filter((s) => JSON.stringify(s.Resource).includes(bucket))))].sort();

  test.each([
    ['FindEpisodes', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']],
    ['GradeBatch', ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']],
    ['WriteReport', ['dynamodb:GetItem', 'dynamodb:UpdateItem']],
  ])('%s: %j on the table', (role, actions) => {
    expect(tableActions(role)).toEqual(actions);
    const key = role.charAt(0).toLowerCase() + role.slice(1);
    expect([...BATCH_TABLE_ACTIONS[key as keyof typeof BATCH_TABLE_ACTIONS]].sort()).toEqual(actions);
  });

  test('no batch function may delete items or write in batches', () => {
    for (const role of ['FindEpisodes', 'GradeBatch', 'WriteReport']) {
      expect(tableActions(role)).not.toEqual(expect.arrayContaining(['dynamodb:DeleteItem']));
      expect(tableActions(role)).not.toEqual(expect.arrayContaining(['dynamodb:BatchWriteItem']));
    }
  });

  test('only find-episodes queries, and only its two indexes', () => {
    const indexStatements = (role: string) => statementsOf(role).filter((s) => JSON.stringify(s.Resource).includes('/index/'));
    const [query] = indexStatements('FindEpisodes');
    expect(query.Action).toBe('dynamodb:Query');
    expect(JSON.stringify(query.Resource)).toMatch(/\/index\/gsi_ended.*\/index\/gsi_tenant|\/index\/gsi_tenant.*\/index\/gsi_ended/);
    expect(indexStatements('GradeBatch')).toEqual([]);
    expect(indexStatements('WriteReport')).toEqual([]);
  });

  test("write-report writes reports and reads the run files; find-episodes writes only run files; grade-batch gets nothing of the reports bucket", () => {
    const resources = (role: string, action: string) => statementsOf(role).filter((s) => [s.Action].flat().includes(action)).map((s) => JSON.stringify(s.Resource));
    expect(s3Actions('WriteReport', 'Reports')).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    expect(resources('WriteReport', 's3:GetObject')).toEqual([expect.stringContaining(`/${BATCH_RUNS_PREFIX}*`)]);
    expect(s3Actions('FindEpisodes', 'Reports')).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    expect(resources('FindEpisodes', 's3:PutObject')).toEqual([expect.stringContaining(`/${BATCH_RUNS_PREFIX}*`)]);
    expect(s3Actions('GradeBatch', 'Reports')).toEqual([]);
  });
});
