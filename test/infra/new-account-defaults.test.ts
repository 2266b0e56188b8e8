import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { NEW_ACCOUNT_MEMORY_LIMIT_MB } from '../../infra/lambda-limits';
import { STACK_NAMES, resourcesOf, synthesize, type Synthesized } from './synth';

/**
 * Issue 13's acceptance: `cdk synth` with the default context gives a deployment a brand-new
 * account accepts and `cdk destroy --all` removes: every function within the new-account
 * memory quota, no reserved concurrency, no termination protection, no GSI projecting ALL.
 * Checked on the synthesized templates and the cloud assembly, whatever construct made them.
 */

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
}, 120_000);
afterAll(() => synth?.cleanup());

const everyResource = (type: string) =>
  STACK_NAMES.flatMap((stack) => Object.entries(resourcesOf(synth.templates[stack], type)).map(([id, r]) => ({ stack, id, props: r.Properties })));

test(`every function has at most ${NEW_ACCOUNT_MEMORY_LIMIT_MB} MB`, () => {
  const functions = everyResource('AWS::Lambda::Function');
  expect(functions.length).toBeGreaterThanOrEqual(6);
  // Lambda's default memory (128 MB) applies where none is set.
  const over = functions.filter((f) => (f.props.MemorySize ?? 128) > NEW_ACCOUNT_MEMORY_LIMIT_MB).map((f) => `${f.stack}/${f.id}: ${f.props.MemorySize}`);
  expect(over).toEqual([]);
});

test('no function reserves concurrency', () => {
  const reserving = everyResource('AWS::Lambda::Function').filter((f) => f.props.ReservedConcurrentExecutions !== undefined);
  expect(reserving.map((f) => `${f.stack}/${f.id}`)).toEqual([]);
});

test('no stack is termination-protected, in the stacks and in the cloud assembly cdk deploys', () => {
  for (const name of STACK_NAMES) {
    expect({ name, protected: synth.stacks[name].terminationProtection }).toEqual({ name, protected: false });
    const artifact = synth.assembly.getStackArtifact(synth.stacks[name].artifactId);
    expect({ name, protected: artifact.terminationProtection ?? false }).toEqual({ name, protected: false });
  }
});

test('no global secondary index projects ALL attributes', () => {
  const tables = everyResource('AWS::DynamoDB::Table');
  expect(tables.length).toBeGreaterThanOrEqual(1);
  const indexes = tables.flatMap((t) => (t.props.GlobalSecondaryIndexes ?? []) as { IndexName: string; Projection: { ProjectionType: string } }[]);
  expect(indexes.length).toBeGreaterThanOrEqual(1);
  expect(indexes.filter((i) => i.Projection.ProjectionType === 'ALL').map((i) => i.IndexName)).toEqual([]);
});

test('no quota warning at the defaults (they fit a new account)', () => {
  const quotaWarnings = STACK_NAMES.flatMap((name) => Annotations.fromStack(synth.stacks[name]).findWarning('*', Match.stringLikeRegexp('Lambda function memory|Concurrent executions')));
  expect(quotaWarnings).toEqual([]);
});
