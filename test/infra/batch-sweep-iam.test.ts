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

test('find-episodes and auto-submit get nothing of the checkpoint bucket', () => {
  expect(onCheckpoints(statementsOf('FindEpisodes'))).toEqual([]);
  expect(onCheckpoints(statementsOf('AutoSubmit'))).toEqual([]);
});
