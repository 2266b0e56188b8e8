import { KEY_SAFE_ID_PATTERN } from '../../core/src';
import { TABLE_LAYOUT } from './table-layout';

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
