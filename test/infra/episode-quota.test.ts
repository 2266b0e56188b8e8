import { ConfigError, DEFAULT_CONFIG, configFromContext, type ContextKey } from '../../infra/config';
import { SKIP_BUNDLING, resourcesOf, synthesize, type Synthesized } from './synth';

/** The tenants' episode quota: context `episodeQuotaPerMonth` → EPISODE_QUOTA_PER_MONTH of the api Lambda, which counts in the table. */

const fromMap = (values: Partial<Record<ContextKey, unknown>>) => (key: ContextKey) => values[key];

describe('context episodeQuotaPerMonth', () => {
  test('defaults to 0 (unlimited); -c strings and cdk.json numbers are read; bad values are reported', () => {
    expect(DEFAULT_CONFIG.api.episodeQuotaPerMonth).toBe(0);
    expect(configFromContext(fromMap({}), {}).api.episodeQuotaPerMonth).toBe(0);
    expect(configFromContext(fromMap({ episodeQuotaPerMonth: '250' }), {}).api.episodeQuotaPerMonth).toBe(250);
    expect(configFromContext(fromMap({ episodeQuotaPerMonth: 40 }), {}).api.episodeQuotaPerMonth).toBe(40);
    for (const bad of ['-1', '2.5', 'lots', 20_000_000]) {
      expect(() => configFromContext(fromMap({ episodeQuotaPerMonth: bad }), {})).toThrow(ConfigError);
      expect(() => configFromContext(fromMap({ episodeQuotaPerMonth: bad }), {})).toThrow(/episodeQuotaPerMonth/);
    }
  });
});

describe('the api Lambda with -c episodeQuotaPerMonth=250', () => {
  // Bundling skipped: this synth checks the wiring, not the bundles.
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({ context: { ...SKIP_BUNDLING, episodeQuotaPerMonth: '250' } });
  });
  afterAll(() => synth?.cleanup());

  const apiFunction = () => {
    const functions = Object.entries(resourcesOf(synth.templates.api, 'AWS::Lambda::Function')).filter(([id]) => id.startsWith('ApiHandler'));
    expect(functions).toHaveLength(1);
    return functions[0]![1];
  };

  test('gets EPISODE_QUOTA_PER_MONTH beside the table it counts in', () => {
    expect(apiFunction().Properties.Environment.Variables).toMatchObject({
      EPISODE_QUOTA_PER_MONTH: '250',
      EPISODES_TABLE: expect.anything(),
    });
  });

  test('may read and (conditionally) update items of the table: the month counter and the override', () => {
    const policies = Object.values(resourcesOf(synth.templates.api, 'AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes('ApiHandler'));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    const onTable = statements.filter((s) => !JSON.stringify(s.Resource).includes('/index/') && JSON.stringify(s.Resource).includes('Episodes'));
    const actions = onTable.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
  });

  test('synthesises clean under cdk-nag', () => {
    expect(synth.nagViolations).toEqual([]);
  });
});
