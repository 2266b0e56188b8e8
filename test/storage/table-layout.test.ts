import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import {
  BATCH_STATE_KEY,
  ENDED_INDEX_SHARDS,
  endedIndexPartition,
  endedIndexPartitionOf,
  endedIndexPartitionsOfDay,
  endedIndexShard,
  episodeKey,
  episodeTableDefinition,
  meteringKey,
  parseEpisodePartitionKey,
  quotaCounterKey,
  parseEndedIndexPartition,
  quotaLimitKey,
  stepKey,
  storedEpisodeSummary,
  TABLE_LAYOUT,
  tenantRegistryKey,
  type StoredEpisode,
} from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, testRuntime } from './helpers';

describe('item keys', () => {
  it('builds the key of every item kind', () => {
    expect(episodeKey('tenant-a', 'ep-1')).toEqual({ pk: 'episode#tenant-a#ep-1', sk: 'episode' });
    expect(stepKey('tenant-a', 'ep-1', 'step-1')).toEqual({ pk: 'episode#tenant-a#ep-1', sk: 'step#step-1' });
    expect(meteringKey('tenant-a', 'ep-1')).toEqual({ pk: 'episode#tenant-a#ep-1', sk: 'metering' });
    expect(tenantRegistryKey('tenant-a')).toEqual({ pk: 'tenants', sk: 'tenant#tenant-a' });
    expect(BATCH_STATE_KEY).toEqual({ pk: 'batch#state', sk: 'batch#state' });
    expect(quotaCounterKey('tenant-a', '2030-01')).toEqual({ pk: 'tenant#tenant-a', sk: 'quota#2030-01' });
    expect(quotaLimitKey('tenant-a')).toEqual({ pk: 'tenant#tenant-a', sk: 'quota#limit' });
  });

  it('parses an episode partition key back, and nothing else', () => {
    expect(parseEpisodePartitionKey(episodeKey('tenant.a@x', 'ep:1').pk)).toEqual({ tenant: 'tenant.a@x', episode_id: 'ep:1' });
    for (const other of ['tenants', 'tenant#tenant-a', 'batch#state', 'episode#tenant-a', 'episode#a#b#c', 'episode##ep-1']) {
      expect(parseEpisodePartitionKey(other)).toBeNull();
    }
  });

  it('builds the end-time index partition values: <day>#<NN>, NN the shard of the episode', () => {
    expect(endedIndexPartition('2030-01-02', 0)).toBe('2030-01-02#00');
    expect(endedIndexPartition('2030-01-02', ENDED_INDEX_SHARDS - 1)).toBe(`2030-01-02#${String(ENDED_INDEX_SHARDS - 1).padStart(2, '0')}`);
    for (const [day, shard] of [['2030-01-02', ENDED_INDEX_SHARDS], ['2030-01-02', -1], ['2030-01-02', 1.5], ['2030-1-2', 0], ['2030-01-02#01', 0]] as const) {
      expect(() => endedIndexPartition(day, shard)).toThrow(RangeError);
    }
    const shard = endedIndexShard('tenant-a', 'ep-1');
    expect(endedIndexPartitionOf('tenant-a', 'ep-1', '2030-01-02T23:59:59.999Z')).toBe(endedIndexPartition('2030-01-02', shard));
    // The legacy bare day first, then every shard once.
    const partitions = endedIndexPartitionsOfDay('2030-01-02');
    expect(partitions[0]).toBe('2030-01-02');
    expect(new Set(partitions.slice(1))).toEqual(new Set(Array.from({ length: ENDED_INDEX_SHARDS }, (_, n) => endedIndexPartition('2030-01-02', n))));
    expect(partitions).toHaveLength(ENDED_INDEX_SHARDS + 1);
  });

  it('parses an end-time index partition value back (a bare day is a legacy one), and nothing else', () => {
    expect(parseEndedIndexPartition(endedIndexPartition('2030-01-02', 7))).toEqual({ day: '2030-01-02', shard: 7 });
    expect(parseEndedIndexPartition('2030-01-02')).toEqual({ day: '2030-01-02', shard: null });
    for (const other of ['2030-01-02#', '2030-01-02#7', '2030-01-02#007', '2030-01-02T00', 'episode#a#b', '']) {
      expect(parseEndedIndexPartition(other)).toBeNull();
    }
  });
});

/** Everything a row read through the index can hold: the projected attributes plus the table's and the index's keys. */
function visibleThrough(index: (typeof TABLE_LAYOUT.indexes)[keyof typeof TABLE_LAYOUT.indexes]): string[] {
  const keys = [TABLE_LAYOUT.partitionKey, TABLE_LAYOUT.sortKey, index.partitionKey, index.sortKey].map((k) => k.name);
  return [...keys, ...index.projectedAttributes].sort();
}

describe('index projections on dynalite (INCLUDE, as the CDK table)', () => {
  let runtime: LocalRuntime;
  const clock = steppingClock('2030-01-02T03:04:05.000Z', 0);

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock } });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  function episode(id: string, ended: boolean): StoredEpisode {
    const record = createEpisode('medium_fashion', 7);
    if (ended) {
      record.status = 'submitted';
      record.grade = { score: 0.25, details: {} };
    }
    return {
      tenant: 'tenant-p',
      episode_id: id,
      version: 0,
      created_at: '2030-01-02T01:00:00.000Z',
      updated_at: '2030-01-02T02:00:00.000Z',
      record,
      checkpoint: null,
      usage: { steps: 3, epochs_trained: 12, training_seconds: 4.5 },
      results: {},
      commit_id: `c-${id}`,
      ended_at: ended ? '2030-01-02T02:00:00.000Z' : null,
    };
  }

  async function rawIndexRows(indexName: string, keyName: string, value: string): Promise<Record<string, unknown>[]> {
    const output = await runtime.clients.documents.send(
      new QueryCommand({
        TableName: runtime.config.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': keyName },
        ExpressionAttributeValues: { ':v': value },
      }),
    );
    return output.Items ?? [];
  }

  it('the local table is created from the layout', async () => {
    const { Table } = await runtime.clients.dynamodb.send(new DescribeTableCommand({ TableName: runtime.config.tableName }));
    const created = episodeTableDefinition(runtime.config.tableName);
    expect(Table?.KeySchema).toEqual(created.KeySchema);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection }))).toEqual(
      created.GlobalSecondaryIndexes!.map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection })),
    );
  });

  it('the tenant index carries what its readers read, and not the record', async () => {
    const store = runtime.episodes;
    const active = episode('ep-p-active', false);
    await store.insert(store.prepare(active));
    const { byTenant } = TABLE_LAYOUT.indexes;
    const [row] = await rawIndexRows(byTenant.name, byTenant.partitionKey.name, 'tenant-p');
    expect(visibleThrough(byTenant)).toEqual(expect.arrayContaining(Object.keys(row!)));
    expect(row).not.toHaveProperty('record');
    expect(row).not.toHaveProperty('results');

    expect((await store.listByTenant('tenant-p')).items).toEqual([storedEpisodeSummary(active)]);
    expect(await store.listUsage('tenant-p', new Date('2030-01-01T00:00:00.000Z'), new Date('2030-01-03T00:00:00.000Z'))).toEqual([
      { tenant: 'tenant-p', episode_id: 'ep-p-active', task_id: 'medium_fashion', status: 'active', created_at: active.created_at, updated_at: active.updated_at, usage: active.usage },
    ]);
    expect(await store.listIdleActive('tenant-p', new Date('2030-01-02T03:00:00.000Z'))).toEqual([storedEpisodeSummary(active)]);
    await store.delete('tenant-p', 'ep-p-active');
  });

  it("the tenant index carries the agent label; an item without one (unlabelled, or written before labels) lists as null", async () => {
    const store = runtime.episodes;
    const labelled = episode('ep-p-labelled', false);
    labelled.record = createEpisode('medium_fashion', 7, { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' });
    const unlabelled = { ...episode('ep-p-unlabelled', false), created_at: '2030-01-02T00:00:00.000Z' };
    await store.insert(store.prepare(labelled));
    await store.insert(store.prepare(unlabelled));
    expect(store.prepare(unlabelled).item).not.toHaveProperty('agent');
    const { byTenant } = TABLE_LAYOUT.indexes;
    const rows = await rawIndexRows(byTenant.name, byTenant.partitionKey.name, 'tenant-p');
    expect(rows.find((r) => r.episode_id === 'ep-p-labelled')?.agent).toEqual({ policy: 'llm', model: 'gpt-4o-mini', version: 'v3' });

    const { items } = await store.listByTenant('tenant-p');
    expect(items.map((s) => [s.episode_id, s.agent])).toEqual([
      ['ep-p-labelled', { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' }],
      ['ep-p-unlabelled', null],
    ]);
    expect(items[0]).toEqual(storedEpisodeSummary(labelled));
    await store.delete('tenant-p', 'ep-p-labelled');
    await store.delete('tenant-p', 'ep-p-unlabelled');
  });

  it('the end-time index carries what the batch run reads, the auto-submission note included', async () => {
    const store = runtime.episodes;
    const ended = episode('ep-p-ended', true);
    await store.insert(store.prepare(ended));
    expect(await store.noteIfAtVersion('tenant-p', 'ep-p-ended', 0, { auto_submitted_by: 'run-9' })).toBe(true);
    const { ended: endedIndex } = TABLE_LAYOUT.indexes;
    const [row] = await rawIndexRows(endedIndex.name, endedIndex.partitionKey.name, endedIndexPartitionOf('tenant-p', 'ep-p-ended', ended.ended_at!));
    expect(row).toMatchObject({ ended_day: expect.stringMatching(/^2030-01-02#\d{2}$/) });
    expect(row).not.toHaveProperty('record');
    expect(visibleThrough(endedIndex)).toEqual(expect.arrayContaining(Object.keys(row!)));

    const { items } = await store.listEnded(new Date('2030-01-02T00:00:00.000Z'), { until: new Date('2030-01-02T03:00:00.000Z') });
    expect(items).toEqual([
      { tenant: 'tenant-p', episode_id: 'ep-p-ended', task_id: 'medium_fashion', ended_at: '2030-01-02T02:00:00.000Z', score: 0.25, auto_submitted_by: 'run-9' },
    ]);
  });
});
