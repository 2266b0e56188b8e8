import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { startCloud, testClock, type Cloud } from './helpers';

/**
 * Each tenant's monthly episode quota, enforced by the api Lambda (real API Gateway events,
 * dynalite + s3rver): a conditional counter per tenant and calendar month in the episodes table.
 */

const create = (cloud: Cloud, tenant: string, body: unknown = { task_id: 'easy_mnist' }) => cloud.api('POST', '/v1/episodes', { apiKeyId: tenant, body });

async function counter(runtime: LocalRuntime, tenant: string, period: string): Promise<Record<string, any> | undefined> {
  const output = await runtime.clients.documents.send(
    new GetCommand({ TableName: runtime.config.tableName, Key: { pk: `tenant#${tenant}`, sk: `quota#${period}` }, ConsistentRead: true }),
  );
  return output.Item;
}

const currentPeriod = () => new Date().toISOString().slice(0, 7);

/**
 * The operator's command of infra/README.md (`aws dynamodb put-item … --item '<json>'`), run
 * as written with the tenant id and the limit filled in.
 */
async function setTenantLimit(runtime: LocalRuntime, tenant: string, episodesPerMonth: number | string): Promise<void> {
  const readme = fs.readFileSync(path.join(__dirname, '../../infra/README.md'), 'utf8');
  const match = /aws dynamodb put-item --table-name [^\n]+\\\n\s+--item '(\{[^']+\})'/.exec(readme);
  if (!match) throw new Error('infra/README.md has no `aws dynamodb put-item … --item` command for the episode quota');
  const item = JSON.parse(match[1]!.replace('<KEY_ID>', tenant)) as Record<string, AttributeValue>;
  expect(Object.keys(item).sort()).toEqual(['episodes_per_month', 'pk', 'sk']);
  item.episodes_per_month = typeof episodesPerMonth === 'number' ? { N: String(episodesPerMonth) } : { S: episodesPerMonth };
  await runtime.clients.dynamodb.send(new PutItemCommand({ TableName: runtime.config.tableName, Item: item }));
}

describe('episode quota (EPISODE_QUOTA_PER_MONTH=3)', () => {
  let runtime: LocalRuntime;
  let cloud: Cloud;
  beforeAll(async () => {
    runtime = await startLocalRuntime();
    cloud = await startCloud({ runtime, apiEnv: { EPISODE_QUOTA_PER_MONTH: '3' } });
  });
  afterAll(async () => {
    await cloud?.close();
    await runtime?.close();
  });

  it('creates episodes under the limit; the (limit+1)th is a 429 episode_quota_exceeded naming limit, period and reset', async () => {
    for (let i = 1; i <= 3; i++) {
      const created = await create(cloud, 'tenant-limited');
      expect(created.status).toBe(201);
    }
    const refused = await create(cloud, 'tenant-limited');
    expect(refused.status).toBe(429);
    const now = new Date();
    const period = now.toISOString().slice(0, 7);
    const resetsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
    expect(refused.json).toEqual({
      error: {
        code: 'episode_quota_exceeded',
        message: expect.any(String),
        details: { limit: 3, used: 3, period, resets_at: resetsAt },
      },
    });
    expect(refused.json.error.message).toContain('3 episodes per calendar month');
    expect(refused.json.error.message).toContain(period);
    expect(refused.json.error.message).toContain(`resets at ${resetsAt}`);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(Math.abs(retryAfter - (Date.parse(resetsAt) - Date.now()) / 1000)).toBeLessThan(60);
    // Nothing was created by the refusal, and the counter did not move.
    const list = await cloud.api('GET', '/v1/episodes', { apiKeyId: 'tenant-limited' });
    expect(list.json.items).toHaveLength(3);
    expect(await counter(runtime, 'tenant-limited', period)).toMatchObject({ episodes: 3, tenant_id: 'tenant-limited', period });
  });

  it('reports the quota in GET /v1/usage (limit, used this month, remaining, period, resets_at)', async () => {
    const usage = await cloud.api('GET', '/v1/usage', { apiKeyId: 'tenant-limited' });
    expect(usage.status).toBe(200);
    expect(usage.json.episodes).toBe(3);
    expect(usage.json.episode_quota).toEqual({
      limit: 3,
      used: 3,
      remaining: 0,
      period: currentPeriod(),
      resets_at: expect.stringMatching(/^\d{4}-\d{2}-01T00:00:00\.000Z$/),
      source: 'default',
    });
    const fresh = await cloud.api('GET', '/v1/usage', { apiKeyId: 'tenant-fresh' });
    expect(fresh.json.episode_quota).toMatchObject({ limit: 3, used: 0, remaining: 3 });
  });

  it('lets exactly 3 of 10 concurrent creations through', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => create(cloud, 'tenant-burst')));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(refused.json.error).toMatchObject({ code: 'episode_quota_exceeded', details: { limit: 3, used: 3 } });
    }
    const list = await cloud.api('GET', '/v1/episodes', { apiKeyId: 'tenant-burst' });
    expect(list.json.items).toHaveLength(3);
    expect((await counter(runtime, 'tenant-burst', currentPeriod()))?.episodes).toBe(3);
  });

  it('does not touch another tenant', async () => {
    // tenant-limited is used up; tenant-other has its own 3.
    for (let i = 0; i < 3; i++) expect((await create(cloud, 'tenant-other')).status).toBe(201);
    expect((await create(cloud, 'tenant-other')).status).toBe(429);
    expect((await create(cloud, 'tenant-limited')).status).toBe(429);
  });

  it("applies a tenant's own limit (the operator's put-item of infra/README.md) to that tenant only", async () => {
    await setTenantLimit(runtime, 'tenant-gold', 5);
    for (let i = 0; i < 5; i++) expect((await create(cloud, 'tenant-gold')).status).toBe(201);
    const refused = await create(cloud, 'tenant-gold');
    expect(refused.status).toBe(429);
    expect(refused.json.error.details).toMatchObject({ limit: 5, used: 5 });
    const usage = await cloud.api('GET', '/v1/usage', { apiKeyId: 'tenant-gold' });
    expect(usage.json.episode_quota).toMatchObject({ limit: 5, used: 5, remaining: 0, source: 'tenant' });
    // Its neighbour keeps the default.
    for (let i = 0; i < 3; i++) expect((await create(cloud, 'tenant-silver')).status).toBe(201);
    expect((await create(cloud, 'tenant-silver')).json.error.details).toMatchObject({ limit: 3 });
  });

  it('raises or lowers a limit mid-month against what was already created; 0 makes the tenant unlimited', async () => {
    // tenant-limited created 3 of 3: raising its limit to 4 allows one more.
    await setTenantLimit(runtime, 'tenant-limited', 4);
    expect((await create(cloud, 'tenant-limited')).status).toBe(201);
    expect((await create(cloud, 'tenant-limited')).json.error.details).toMatchObject({ limit: 4, used: 4 });
    // Lowering below the count refuses at once and reports the real count.
    await setTenantLimit(runtime, 'tenant-limited', 2);
    expect((await create(cloud, 'tenant-limited')).json.error.details).toMatchObject({ limit: 2, used: 4 });
    await setTenantLimit(runtime, 'tenant-limited', 0);
    for (let i = 0; i < 3; i++) expect((await create(cloud, 'tenant-limited')).status).toBe(201);
    const usage = await cloud.api('GET', '/v1/usage', { apiKeyId: 'tenant-limited' });
    expect(usage.json.episode_quota).toMatchObject({ limit: null, used: 7, remaining: null, source: 'tenant' });
  });

  it('ignores a malformed override (the default applies); accepts a number written as a string', async () => {
    await setTenantLimit(runtime, 'tenant-typo', 'lots');
    for (let i = 0; i < 3; i++) expect((await create(cloud, 'tenant-typo')).status).toBe(201);
    expect((await create(cloud, 'tenant-typo')).json.error.details).toMatchObject({ limit: 3 });
    await setTenantLimit(runtime, 'tenant-typo', '4');
    expect((await create(cloud, 'tenant-typo')).status).toBe(201);
    expect((await create(cloud, 'tenant-typo')).json.error.details).toMatchObject({ limit: 4, used: 4 });
  });

  it('takes no slot for a request the core refuses (unknown task): it stays a 400 even over quota', async () => {
    const unknown = await create(cloud, 'tenant-careless', { task_id: 'hard_imagenet' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('unknown_task');
    expect(await counter(runtime, 'tenant-careless', currentPeriod())).toBeUndefined();
    for (let i = 0; i < 3; i++) expect((await create(cloud, 'tenant-careless')).status).toBe(201);
    expect((await create(cloud, 'tenant-careless', { task_id: 'hard_imagenet' })).status).toBe(400);
    expect((await create(cloud, 'tenant-careless')).status).toBe(429);
  });

  it('gives the slot back when the creation fails after the slot was taken', async () => {
    const insert = jest.spyOn(runtime.episodes, 'insert').mockRejectedValueOnce(new Error('simulated DynamoDB fault'));
    try {
      const failed = await create(cloud, 'tenant-unlucky');
      expect(failed.status).toBe(500);
      expect(failed.json.error.code).toBe('internal_error');
    } finally {
      insert.mockRestore();
    }
    expect((await counter(runtime, 'tenant-unlucky', currentPeriod()))?.episodes).toBe(0);
    for (let i = 0; i < 3; i++) expect((await create(cloud, 'tenant-unlucky')).status).toBe(201);
    expect((await create(cloud, 'tenant-unlucky')).status).toBe(429);
  });
});

describe('episode quota across months (injected clock)', () => {
  let cloud: Cloud;
  const clock = testClock(Date.parse('2026-01-31T23:59:58.000Z'));
  beforeAll(async () => {
    cloud = await startCloud({ clock, apiEnv: { EPISODE_QUOTA_PER_MONTH: '2' } });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('counts per calendar month (UTC): a new month starts from 0', async () => {
    expect((await create(cloud, 'tenant-monthly')).status).toBe(201);
    expect((await create(cloud, 'tenant-monthly')).status).toBe(201);
    const refused = await create(cloud, 'tenant-monthly');
    expect(refused.status).toBe(429);
    expect(refused.json.error.details).toEqual({ limit: 2, used: 2, period: '2026-01', resets_at: '2026-02-01T00:00:00.000Z' });
    expect(refused.json.error.message).toContain('resets at 2026-02-01T00:00:00.000Z');
    expect(refused.headers['retry-after']).toBe('2');

    clock.set('2026-02-01T00:00:00.000Z');
    expect((await create(cloud, 'tenant-monthly')).status).toBe(201);
    expect((await create(cloud, 'tenant-monthly')).status).toBe(201);
    const february = await create(cloud, 'tenant-monthly');
    expect(february.json.error.details).toEqual({ limit: 2, used: 2, period: '2026-02', resets_at: '2026-03-01T00:00:00.000Z' });

    const january = await counter(cloud.runtime, 'tenant-monthly', '2026-01');
    expect(january).toMatchObject({ episodes: 2, period: '2026-01' });
    // Kept for the retention period after its month ends.
    expect(january!.expires_at).toBe(Date.parse('2026-02-01T00:00:00.000Z') / 1000 + cloud.runtime.config.retentionSeconds);
    const usage = await cloud.api('GET', '/v1/usage', { apiKeyId: 'tenant-monthly' });
    expect(usage.json.episode_quota).toMatchObject({ limit: 2, used: 2, period: '2026-02', resets_at: '2026-03-01T00:00:00.000Z' });
  });
});

describe('episode quota unset or 0: unlimited', () => {
  let runtime: LocalRuntime;
  let unset: Cloud;
  let zero: Cloud;
  beforeAll(async () => {
    runtime = await startLocalRuntime();
    unset = await startCloud({ runtime });
    zero = await startCloud({ runtime, apiEnv: { EPISODE_QUOTA_PER_MONTH: '0' } });
  });
  afterAll(async () => {
    await unset?.close();
    await zero?.close();
    await runtime?.close();
  });

  it('creates as many episodes as asked, still counting them for GET /v1/usage', async () => {
    for (const cloud of [unset, zero]) {
      const answers = await Promise.all(Array.from({ length: 12 }, () => create(cloud, 'tenant-free')));
      expect(answers.every((a) => a.status === 201)).toBe(true);
    }
    expect((await counter(runtime, 'tenant-free', currentPeriod()))?.episodes).toBe(24);
    const usage = await unset.api('GET', '/v1/usage', { apiKeyId: 'tenant-free' });
    expect(usage.json.episode_quota).toMatchObject({ limit: null, used: 24, remaining: null, source: 'default' });
  });

  it('still applies a tenant’s own limit', async () => {
    await setTenantLimit(runtime, 'tenant-capped', 1);
    expect((await create(unset, 'tenant-capped')).status).toBe(201);
    expect((await create(unset, 'tenant-capped')).json.error).toMatchObject({ code: 'episode_quota_exceeded', details: { limit: 1, used: 1 } });
  });

  it('refuses a malformed EPISODE_QUOTA_PER_MONTH with a message naming it', async () => {
    const broken = await startCloud({ runtime, apiEnv: { EPISODE_QUOTA_PER_MONTH: '-1' } });
    try {
      await expect(create(broken, 'tenant-free')).rejects.toThrow(/EPISODE_QUOTA_PER_MONTH must be an integer of at least 0/);
    } finally {
      await broken.close();
    }
  });
});
