import { createHash } from 'node:crypto';
import { KEY_SAFE_ID_PATTERN } from '../../core/src';
import { ENDED_INDEX_SHARDS, TABLE_LAYOUT } from './table-layout';

/**
 * The key of every item kind in the episodes table, built and parsed in one place:
 *
 * | pk | sk | what |
 * |---|---|---|
 * | `episode#<tenant>#<episode>` | `episode` | the episode (episode-store.ts) |
 * | `episode#<tenant>#<episode>` | `step#<step_id>` | a step requested but not (yet) committed (layers/cloud) |
 * | `episode#<tenant>#<episode>` | `metering` | Lambda use of the episode's training invocations (layers/cloud) |
 * | `tenants` | `tenant#<tenant>` | the tenants that created episodes (layers/cloud) |
 * | `batch#state` | `batch#state` | where the next batch run starts (layers/cloud) |
 * | `tenant#<tenant>` | `quota#<YYYY-MM>`, `quota#limit` | a tenant's episode count per month and its limit (layers/cloud) |
 *
 * and the partition values of the end-time GSI (`ended_day`): `<YYYY-MM-DD>#<NN>`, or the bare
 * day on items written before the index was sharded (endedIndexPartition, parseEndedIndexPartition).
 *
 * Ids never contain `#` (isValidId), so a key splits back into its parts unambiguously.
 */
export type ItemKey = { [K in typeof TABLE_LAYOUT.partitionKey.name | typeof TABLE_LAYOUT.sortKey.name]: string };

/** Whether a tenant, episode or step id can be part of a key (the core's key-safe id). */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && KEY_SAFE_ID_PATTERN.test(value);
}

function itemKey(partition: string, sort: string): ItemKey {
  return { [TABLE_LAYOUT.partitionKey.name]: partition, [TABLE_LAYOUT.sortKey.name]: sort } as ItemKey;
}

const EPISODE_PREFIX = 'episode#';
const EPISODE_SK = 'episode';
const STEP_PREFIX = 'step#';
const METERING_SK = 'metering';
const TENANT_PREFIX = 'tenant#';
const QUOTA_PREFIX = 'quota#';

/** The partition of an episode: the episode item and the cloud's items of the same episode share it. */
export function episodePartitionKey(tenant: string, episodeId: string): string {
  return `${EPISODE_PREFIX}${tenant}#${episodeId}`;
}

/** The tenant and episode of an episode partition key; null for any other key. */
export function parseEpisodePartitionKey(pk: string): { tenant: string; episode_id: string } | null {
  if (!pk.startsWith(EPISODE_PREFIX)) return null;
  const [tenant, episodeId, ...rest] = pk.slice(EPISODE_PREFIX.length).split('#');
  if (rest.length > 0 || !isValidId(tenant) || !isValidId(episodeId)) return null;
  return { tenant, episode_id: episodeId };
}

export function episodeKey(tenant: string, episodeId: string): ItemKey {
  return itemKey(episodePartitionKey(tenant, episodeId), EPISODE_SK);
}

export function stepKey(tenant: string, episodeId: string, stepId: string): ItemKey {
  return itemKey(episodePartitionKey(tenant, episodeId), `${STEP_PREFIX}${stepId}`);
}

export function meteringKey(tenant: string, episodeId: string): ItemKey {
  return itemKey(episodePartitionKey(tenant, episodeId), METERING_SK);
}

/** The partition that lists the tenants (one item per tenant). */
export const TENANTS_PARTITION_KEY = 'tenants';

export function tenantRegistryKey(tenant: string): ItemKey {
  return itemKey(TENANTS_PARTITION_KEY, `${TENANT_PREFIX}${tenant}`);
}

export const BATCH_STATE_KEY: ItemKey = itemKey('batch#state', 'batch#state');

/** A tenant's episode counter for one calendar month (`YYYY-MM`). */
export function quotaCounterKey(tenant: string, period: string): ItemKey {
  return itemKey(`${TENANT_PREFIX}${tenant}`, `${QUOTA_PREFIX}${period}`);
}

/** A tenant's own episode limit, set by the operator. */
export function quotaLimitKey(tenant: string): ItemKey {
  return itemKey(`${TENANT_PREFIX}${tenant}`, `${QUOTA_PREFIX}limit`);
}

const UTC_DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const ENDED_PARTITION_PATTERN = /^(\d{4}-\d{2}-\d{2})(?:#(\d{2}))?$/;

/** The UTC day `YYYY-MM-DD` of an ISO time (the episode store writes `toISOString()` times). */
export function utcDayOf(isoTime: string): string {
  return isoTime.slice(0, 10);
}

/**
 * The end-time index shard of an episode, in [0, ENDED_INDEX_SHARDS): the first 32 bits of the
 * SHA-256 of its partition key, modulo the shard count. Deterministic, so that every rewrite
 * of an ended episode (commits, notes) keeps it on one shard instead of moving its index entry.
 * SHA-256 rather than a small FNV: FNV multiplies, and the low bits of a product depend only on
 * the low bits of its factors, so FNV modulo 16 would see only the low nibble of each
 * character; SHA-256 is uniform in every bit, is in node:crypto, and costs about a microsecond
 * for a key this short, nothing beside the PutItem it goes into.
 */
export function endedIndexShard(tenant: string, episodeId: string): number {
  const digest = createHash('sha256').update(episodePartitionKey(tenant, episodeId), 'utf8').digest();
  return digest.readUInt32BE(0) % ENDED_INDEX_SHARDS;
}

/** One partition value of the end-time index: `<day>#<NN>`. */
export function endedIndexPartition(day: string, shard: number): string {
  if (!UTC_DAY_PATTERN.test(day)) throw new RangeError(`Not a UTC day: ${JSON.stringify(day)}.`);
  if (!Number.isInteger(shard) || shard < 0 || shard >= Math.min(ENDED_INDEX_SHARDS, 100)) {
    throw new RangeError(`Shard ${shard} is outside [0, ${ENDED_INDEX_SHARDS}).`);
  }
  return `${day}#${String(shard).padStart(2, '0')}`;
}

/** The `ended_day` value an ended episode's item carries. */
export function endedIndexPartitionOf(tenant: string, episodeId: string, endedAt: string): string {
  return endedIndexPartition(utcDayOf(endedAt), endedIndexShard(tenant, episodeId));
}

/**
 * Every partition value a reader of one day must query: the legacy bare day first (items
 * written before the index was sharded hold it; they leave with their TTL, after the
 * retention, and until then a day's episodes may be split between it and the shards), then
 * each shard.
 */
export function endedIndexPartitionsOfDay(day: string): string[] {
  const shards = Array.from({ length: ENDED_INDEX_SHARDS }, (_, shard) => endedIndexPartition(day, shard));
  return [day, ...shards];
}

/** The day and shard of an `ended_day` value (shard null: a legacy bare day); null for anything else. */
export function parseEndedIndexPartition(value: string): { day: string; shard: number | null } | null {
  const match = ENDED_PARTITION_PATTERN.exec(value);
  if (!match) return null;
  return { day: match[1]!, shard: match[2] === undefined ? null : Number(match[2]) };
}
