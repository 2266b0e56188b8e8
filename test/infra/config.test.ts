import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { CONTEXT_KEYS, ConfigError, DEFAULT_CONFIG, DEFAULT_TRAINING_MEMORY_MB, LOG_RETENTION_DAYS, configFromContext, contextKeyRange, type ContextKey } from '../../infra/config';
import { CONCURRENCY_QUOTA_NOTE, MEMORY_QUOTA_NOTE, NEW_ACCOUNT_MEMORY_LIMIT_MB, vcpusFor } from '../../infra/lambda-limits';
import { SKIP_BUNDLING, resourcesOf, synthesize, type Synthesized } from './synth';

const fromMap = (values: Partial<Record<ContextKey, unknown>>) => (key: ContextKey) => values[key];

describe('configFromContext', () => {
  test('defaults when no context is given', () => {
    expect(configFromContext(fromMap({}), {})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.batch.schedule).toBe('cron(0 3 * * ? *)');
  });

  test('command-line strings are parsed (-c key=value)', () => {
    const config = configFromContext(
      fromMap({
        trainingMemoryMb: '8192',
        trainingReservedConcurrency: 'none',
        retainData: 'false',
        dataEncryption: 'customer-managed',
        logLevel: 'debug',
        apiQuotaPeriod: 'month',
        batchSchedule: 'rate(6 hours)',
        batchEnabled: 'false',
        pricePerEpisodeUsd: '0.25',
        alarmEmail: 'ops@example.com',
      }),
      {},
    );
    expect(config.training.memoryMb).toBe(8192);
    expect(config.training.reservedConcurrency).toBeUndefined();
    expect(config.retainData).toBe(false);
    expect(config.dataEncryption).toBe('customer-managed');
    expect(config.logLevel).toBe('DEBUG');
    expect(config.api.quotaPeriod).toBe('MONTH');
    expect(config.batch).toMatchObject({ schedule: 'rate(6 hours)', enabled: false });
    expect(config.prices.perEpisodeUsd).toBe(0.25);
    expect(config.alarms.email).toBe('ops@example.com');
  });

  test('cdk.json numbers and booleans are accepted as they are', () => {
    const config = configFromContext(fromMap({ trainingMemoryMb: 4096, trainingReservedConcurrency: 3, apiCloudWatchRole: false }), {});
    expect(config.training).toMatchObject({ memoryMb: 4096, reservedConcurrency: 3 });
    expect(config.api.cloudWatchRole).toBe(false);
  });

  test('TFJS_NODE_CDN_STORAGE comes from the environment unless the context sets it; unset when empty', () => {
    expect(configFromContext(fromMap({}), { TFJS_NODE_CDN_STORAGE: 'http://127.0.0.1:8080/' }).training.tfjsNodeCdnStorage).toBe('http://127.0.0.1:8080/');
    expect(configFromContext(fromMap({ tfjsNodeCdnStorage: 'https://mirror.example/' }), { TFJS_NODE_CDN_STORAGE: 'http://x/' }).training.tfjsNodeCdnStorage).toBe(
      'https://mirror.example/',
    );
    expect(configFromContext(fromMap({}), { TFJS_NODE_CDN_STORAGE: '  ' }).training.tfjsNodeCdnStorage).toBeUndefined();
  });

  test('every problem is reported at once', () => {
    let error: unknown;
    try {
      configFromContext(
        fromMap({
          trainingMemoryMb: '1024',
          trainingEphemeralStorageMb: 'lots',
          logRetentionDays: '10',
          dataEncryption: 'none',
          batchSchedule: 'nightly',
          batchMaxConcurrency: '0',
          wafWebAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x',
          apiRateLimit: '50',
          apiBurstLimit: '10',
        }),
        {},
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['trainingMemoryMb', 'trainingEphemeralStorageMb', 'logRetentionDays', 'dataEncryption', 'batchSchedule', 'batchMaxConcurrency', 'wafWebAclArn', 'apiBurstLimit']) {
      expect(problems).toContain(key);
    }
  });

  test('checkpoints may not expire before the episodes that need them', () => {
    expect(() => configFromContext(fromMap({ episodeRetentionDays: '60', checkpointExpirationDays: '30' }), {})).toThrow(/checkpointExpirationDays/);
  });

  test('the context keys are documented in infra/README.md', () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../infra/README.md'), 'utf8');
    for (const key of Object.keys(CONTEXT_KEYS)) expect({ key, documented: readme.includes(`\`${key}\``) }).toEqual({ key, documented: true });
  });

  test("infra/README.md's settings table states each numeric key's range as the schema has it, and no other", () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../infra/README.md'), 'utf8');
    const rowOf = (key: string) => readme.split('\n').find((line) => line.startsWith(`| \`${key}\` |`)) ?? '';
    for (const key of Object.keys(CONTEXT_KEYS) as ContextKey[]) {
      const range = contextKeyRange(key);
      const stated = [...rowOf(key).matchAll(/(\d[\d.]*)–(\d[\d.]*)/g)].map((m) => m[0]);
      expect({ key, stated }).toEqual({ key, stated: range ? [`${range.min}–${range.max}`] : [] });
    }
  });

  test('a numeric key says its range in its error message', () => {
    const read = fromMap({ batchMaxConcurrency: 1001, trainingReservedConcurrency: 0 });
    expect(() => configFromContext(read, {})).toThrow(/batchMaxConcurrency must be an integer in \[1, 1000\], got 1001/);
    expect(() => configFromContext(read, {})).toThrow(/trainingReservedConcurrency must be an integer in \[1, 1000\], or none, got 0/);
  });
});

describe('configFromContext: the context schema', () => {
  const problemsOf = (values: Partial<Record<ContextKey, unknown>>): string[] => {
    try {
      configFromContext(fromMap(values), {});
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  test('a string from -c and a number or boolean from cdk.json give the same configuration', () => {
    const fromStrings = configFromContext(
      fromMap({ trainingMemoryMb: ' 8192 ', apiRateLimit: '2.5', apiBurstLimit: '3', retainData: ' FALSE ', batchEnabled: 'True', logRetentionDays: '90' }),
      {},
    );
    const fromJson = configFromContext(
      fromMap({ trainingMemoryMb: 8192, apiRateLimit: 2.5, apiBurstLimit: 3, retainData: false, batchEnabled: true, logRetentionDays: 90 }),
      {},
    );
    expect(fromStrings).toEqual(fromJson);
    expect(fromJson).toMatchObject({ retainData: false, logRetentionDays: 90, training: { memoryMb: 8192 }, api: { rateLimit: 2.5, burstLimit: 3 } });
  });

  test('absent, null and blank values take the default', () => {
    expect(configFromContext(fromMap({ trainingMemoryMb: null, prefix: '  ', retainData: '', alarmEmail: ' ' }), {})).toEqual(DEFAULT_CONFIG);
  });

  test('"none" (any case) unreserves the training concurrency; a number reserves it', () => {
    expect(configFromContext(fromMap({ trainingReservedConcurrency: ' NONE ' }), {}).training.reservedConcurrency).toBeUndefined();
    expect(configFromContext(fromMap({ trainingReservedConcurrency: '25' }), {}).training.reservedConcurrency).toBe(25);
  });

  test('each problem names the key, what it accepts and the value given', () => {
    expect(
      problemsOf({
        trainingMemoryMb: 5000.5,
        trainingReservedConcurrency: 'abc',
        retainData: 1,
        batchEnabled: 'yes',
        tfjsNodeCdnStorage: 'ftp://x',
        apiRateLimit: 'fast',
        logLevel: 'loud',
      }),
    ).toEqual([
      'retainData must be true or false, got 1',
      'logLevel must be one of DEBUG, INFO, WARN, ERROR, got "loud"',
      `trainingMemoryMb must be an integer in [1769, 10240], got 5000.5. ${MEMORY_QUOTA_NOTE}`,
      `trainingReservedConcurrency must be an integer in [1, 1000], or none, got "abc". ${CONCURRENCY_QUOTA_NOTE}`,
      'tfjsNodeCdnStorage must be an http(s) URL, got "ftp://x"',
      'apiRateLimit must be a number in [1, 10000], got "fast"',
      'batchEnabled must be true or false, got "yes"',
    ]);
    expect(problemsOf({ logRetentionDays: '10' })).toEqual([`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}, got "10"`]);
  });

  test('the rules across settings are reported together with the other problems', () => {
    expect(problemsOf({ trainingMemoryMb: 5000.5, apiRateLimit: '2.5', apiBurstLimit: '2', episodeRetentionDays: 60, checkpointExpirationDays: 30 })).toEqual([
      `trainingMemoryMb must be an integer in [1769, 10240], got 5000.5. ${MEMORY_QUOTA_NOTE}`,
      'apiBurstLimit (2) must be at least apiRateLimit (2.5)',
      'checkpointExpirationDays (30) must be at least episodeRetentionDays (60): a live episode must not lose its checkpoint',
    ]);
  });

  test('the defaults deploy on a brand-new account: memory within its quota, nothing reserved, no termination protection', () => {
    expect(DEFAULT_CONFIG.training.memoryMb).toBe(DEFAULT_TRAINING_MEMORY_MB);
    expect(DEFAULT_TRAINING_MEMORY_MB).toBeLessThanOrEqual(NEW_ACCOUNT_MEMORY_LIMIT_MB);
    expect(DEFAULT_CONFIG.training.reservedConcurrency).toBeUndefined();
    expect(DEFAULT_CONFIG.terminationProtection).toBe(false);
    expect(DEFAULT_CONFIG.training.threads).toBeLessThanOrEqual(vcpusFor(DEFAULT_TRAINING_MEMORY_MB));
  });

  test('memory from 1769 MB (one vCPU) up, with one thread there; the errors name the quotas', () => {
    expect(configFromContext(fromMap({ trainingMemoryMb: '1769', trainingThreads: '1' }), {}).training).toMatchObject({ memoryMb: 1769, threads: 1 });
    expect(problemsOf({ trainingMemoryMb: 1768 })[0]).toContain("the quota 'Lambda function memory'");
    expect(problemsOf({ trainingMemoryMb: 12000 })[0]).toContain('new accounts are limited to 3008 MB per function');
    expect(problemsOf({ trainingReservedConcurrency: -1 })[0]).toContain("the account's 'Concurrent executions' quota, which must stay >= 100 unreserved");
  });

  test('threads: 1-6 and no more than the vCPUs the memory gives (one per 1769 MB), the message says what to set', () => {
    expect(problemsOf({ trainingMemoryMb: 1769, trainingThreads: 2 })).toEqual([
      'trainingThreads (2) must not exceed the vCPUs trainingMemoryMb (1769) gives: Lambda gives one vCPU per 1769 MB, so 1 here; set -c trainingThreads=1 or -c trainingMemoryMb=1770 or more',
    ]);
    expect(configFromContext(fromMap({ trainingMemoryMb: 1770, trainingThreads: 2 }), {}).training.threads).toBe(2);
    expect(problemsOf({ trainingThreads: 6, trainingMemoryMb: 10240 })).toEqual([]);
    expect(problemsOf({ trainingThreads: 7 })).toEqual(['trainingThreads must be an integer in [1, 6], got 7']);
    expect(problemsOf({ trainingThreads: 4, trainingMemoryMb: 3008 })[0]).toMatch(/so 2 here; set -c trainingThreads=2 or -c trainingMemoryMb=5308 or more/);
  });

  test('image build arguments: NAME=VALUE pairs of the names the Dockerfile declares', () => {
    const config = configFromContext(fromMap({ trainingImageBuildArgs: 'NPM_REGISTRY=http://npm.internal/,NODEJS_HEADERS_DIR=/opt/node' }), {});
    expect(config.training.imageBuildArgs).toEqual({ NPM_REGISTRY: 'http://npm.internal/', NODEJS_HEADERS_DIR: '/opt/node' });
    expect(problemsOf({ trainingImageBuildArgs: 'FOO=bar' })[0]).toMatch(/^trainingImageBuildArgs must be NAME=VALUE pairs separated by commas, NAME one of BASE_IMAGE, /);
    expect(problemsOf({ trainingImageBuildArgs: 'NPM_REGISTRY=' })).toHaveLength(1);
  });

  test('termination protection is an opt-in', () => {
    expect(configFromContext(fromMap({ terminationProtection: 'true' }), {}).terminationProtection).toBe(true);
  });

  test('a rule across settings is not checked against a default that stands in for an invalid value', () => {
    expect(problemsOf({ apiRateLimit: 'abc', apiBurstLimit: '5' })).toEqual(['apiRateLimit must be a number in [1, 10000], got "abc"']);
  });
});

describe('a customised deployment (customer-managed key, WAF, no reserved concurrency, own schedule)', () => {
  // Bundling skipped: this synth checks configuration wiring and cdk-nag, not the bundles.
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({
      context: {
        ...SKIP_BUNDLING,
        prefix: 'MlTrainerStaging',
        retainData: 'false',
        dataEncryption: 'customer-managed',
        trainingMemoryMb: '4096',
        trainingReservedConcurrency: 'none',
        trainingEphemeralStorageMb: '2048',
        tfjsNodeCdnStorage: 'http://127.0.0.1:8111/',
        trainingImageBuildHostNetwork: 'true',
        trainingImageBuildArgs: 'NPM_REGISTRY=http://127.0.0.1:4873/',
        terminationProtection: 'true',
        wafWebAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/ml-trainer/abc',
        apiCloudWatchRole: 'false',
        apiQuotaLimit: '500',
        apiQuotaPeriod: 'MONTH',
        batchSchedule: 'cron(30 1 * * ? *)',
        batchTimeZone: 'Europe/Paris',
        batchEnabled: 'false',
        batchMaxConcurrency: '12',
        alarmEmail: 'ops@example.com',
        logRetentionDays: '90',
      },
    });
  });
  afterAll(() => synth?.cleanup());

  test('still no unacknowledged cdk-nag finding', () => {
    expect(synth.nagViolations).toEqual([]);
  });

  test('one rotated customer-managed key encrypts the table and the data buckets; access logs stay SSE-S3', () => {
    const t = synth.templates.data;
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const [keyId] = Object.keys(resourcesOf(t, 'AWS::KMS::Key'));
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      DeletionProtectionEnabled: false,
    });
    const algorithms = Object.entries(resourcesOf(t, 'AWS::S3::Bucket')).map(
      ([id, b]) => [id.replace(/[0-9A-F]{8}$/, ''), b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm],
    );
    expect(Object.fromEntries(algorithms)).toEqual({ AccessLogs: 'AES256', Datasets: 'aws:kms', Checkpoints: 'aws:kms', Reports: 'aws:kms' });
    // Termination protection asked for (it is independent of retainData).
    expect(synth.stacks.data.terminationProtection).toBe(true);
  });

  test('functions may use the key (explicit actions only)', () => {
    const [policy] = Object.entries(resourcesOf(synth.templates.compute, 'AWS::IAM::Policy')).filter(([id]) => id.startsWith('TrainingBasicsRole'));
    const kms = (policy![1].Properties.PolicyDocument.Statement as any[]).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(kms.length).toBeGreaterThan(0);
    for (const s of kms) for (const action of [s.Action].flat()) expect(action).not.toContain('*');
  });

  test('a memory above the new-account quota is a synth warning that names the quota', () => {
    const warnings = Annotations.fromStack(synth.stacks.compute).findWarning('*', Match.stringLikeRegexp("quota 'Lambda function memory'"));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toContain('trainingMemoryMb is 4096');
    expect(Annotations.fromStack(synth.stacks.compute).findWarning('*', Match.stringLikeRegexp('Concurrent executions'))).toEqual([]);
  });

  test('training: memory, /tmp, no reserved concurrency; image built with the mirror and host network', () => {
    const [training] = Object.values(resourcesOf(synth.templates.compute, 'AWS::Lambda::Function')).filter((f) => f.Properties.PackageType === 'Image');
    expect(training!.Properties).toMatchObject({ MemorySize: 4096, EphemeralStorage: { Size: 2048 } });
    expect(training!.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const manifest = JSON.parse(fs.readFileSync(path.join(synth.outdir, `${synth.stacks.compute.artifactId}.assets.json`), 'utf8'));
    const [image] = Object.values(manifest.dockerImages) as any[];
    expect(image.source).toMatchObject({
      dockerBuildArgs: { TFJS_NODE_CDN_STORAGE: 'http://127.0.0.1:8111/', NPM_REGISTRY: 'http://127.0.0.1:4873/' },
      networkMode: 'host',
    });
  });

  test('api: WAF associated, no account-level CloudWatch role, quota per month', () => {
    const t = synth.templates.api;
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/ml-trainer/abc' });
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Quota: { Limit: 500, Period: 'MONTH' } });
  });

  test('batch: own schedule and time zone, disabled, wider Map', () => {
    synth.templates.batch.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'DISABLED',
    });
    const [machine] = Object.values(resourcesOf(synth.templates.batch, 'AWS::StepFunctions::StateMachine'));
    expect(JSON.stringify(machine!.Properties.DefinitionString)).toContain('\\"MaxConcurrency\\":12');
  });

  test('alarm e-mail subscription; stack names carry the prefix; log retention', () => {
    synth.templates.observability.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(synth.assembly.stacks.map((s) => s.stackName).every((n) => n.startsWith('MlTrainerStaging-'))).toBe(true);
    synth.templates.compute.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    synth.templates.data.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Delete', Properties: Match.anyValue() });
  });
});
