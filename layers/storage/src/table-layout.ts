/**
 * The episodes table as plain data: its keys, its indexes (key schemas and projections) and
 * the attribute names of an episode item. The CDK data stack (infra/stacks/data-stack.ts)
 * and the local CreateTable (provisioning.ts) are both built from it; the episode store and
 * layers/cloud read and write by it. Key values are built and parsed in table-keys.ts.
 */

export type KeyAttributeType = 'string' | 'number';

export interface KeyAttribute {
  readonly name: EpisodeItemAttribute;
  readonly type: KeyAttributeType;
}

/** The attributes of an episode item (layers/storage/README.md says what each holds). */
export const EPISODE_ITEM_ATTRIBUTES = [
  'pk',
  'sk',
  'item_schema',
  'tenant',
  'episode_id',
  'task_id',
  'seed',
  'status',
  'step_count',
  'best_val_accuracy',
  'score',
  // Who played (the record's agent label, a map; absent on unlabelled and older episodes): listings group by it.
  'agent',
  'version',
  'created_at',
  'updated_at',
  'expires_at',
  'record',
  'checkpoint',
  // Trainer calls recorded since the checkpoint (absent: none); the next training step replays and clears them.
  'trainer_ops',
  'usage',
  'results',
  'commit_id',
  'ended_at',
  'ended_day',
  // Set while a step executes (EpisodeStore.acquireLease); a commit replaces the item without it.
  'lease',
  // Notes that layers/cloud adds through EpisodeStore.noteIfAtVersion:
  'graded_at',
  'graded_by',
  'grade_matches',
  'auto_submitted_by',
] as const;

export type EpisodeItemAttribute = (typeof EPISODE_ITEM_ATTRIBUTES)[number];

export interface IndexLayout {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /**
   * The non-key attributes the index carries (an INCLUDE projection); the table's and the
   * index's own keys are always projected. Each list is what the index's readers in
   * episode-store.ts read or filter on, and no more: the items are 17-60 KB and rewritten
   * on every step, so projecting ALL would about double the cost of each write.
   */
  readonly projectedAttributes: readonly EpisodeItemAttribute[];
}

const stringKey = <N extends EpisodeItemAttribute>(name: N) => ({ name, type: 'string' }) as const;

/** A tenant's episodes by creation time: listings, usage reports, abandoned episodes. */
const byTenantIndex = {
  name: 'gsi_tenant',
  partitionKey: stringKey('tenant'),
  sortKey: stringKey('created_at'),
  projectedAttributes: [
    'episode_id',
    'task_id',
    'seed',
    'status',
    'step_count',
    'best_val_accuracy',
    'score',
    'version',
    'updated_at',
    'expires_at',
    'usage',
    'agent',
  ],
} as const satisfies IndexLayout;

/**
 * How many partition values one UTC day of `gsi_ended` is written across: an ended episode's
 * `ended_day` is `<YYYY-MM-DD>#<NN>`, NN its shard (table-keys.ts: endedIndexPartition).
 *
 * Why: with one value per day, every episode ending that day is written to one index
 * partition. At 10 million a day (about 116 a second, peaks several times that) that value
 * nears a partition's 1,000 writes a second, and a throttled GSI throttles the table's own
 * writes, i.e. the steps. Why 16: a peak of 10x the mean is then about 75 writes a second per
 * value, an order of magnitude under the limit, while a reader pays 16 Queries (plus the
 * legacy one) per day and merges 17 streams, which stays cheap for the nightly batch run.
 *
 * Changing it: readers query shards 0..N-1 of this count, so a LARGER count still reads every
 * value a smaller one wrote (an item rewritten afterwards simply moves to its new shard), but
 * during a deploy that raises it a new writer may run beside an old reader, which misses the
 * new shards until it is replaced. Never lower it while items written with the higher count
 * can still be read (up to the retention, `expires_at`): readers would miss the shards above
 * the new count. NN has two digits, so at most 100.
 */
export const ENDED_INDEX_SHARDS = 16;

/**
 * Ended episodes by UTC day and end time, across tenants (sparse: active episodes lack the
 * keys), each day written across ENDED_INDEX_SHARDS partition values (items written before the
 * shards hold the bare day).
 */
const endedIndex = {
  name: 'gsi_ended',
  partitionKey: stringKey('ended_day'),
  sortKey: stringKey('ended_at'),
  projectedAttributes: ['tenant', 'episode_id', 'task_id', 'score', 'auto_submitted_by'],
} as const satisfies IndexLayout;

export const TABLE_LAYOUT = {
  partitionKey: { name: 'pk', type: 'string' },
  sortKey: { name: 'sk', type: 'string' },
  /** TTL attribute, epoch seconds; items past it read as absent (dynalite has no TTL). */
  ttlAttribute: 'expires_at',
  /** Optimistic-locking version of an episode item: +1 per committed write. */
  versionAttribute: 'version',
  /** The single-flight lease of an executing step: {holder, request_id, call_sha256, expires_at}. */
  leaseAttribute: 'lease',
  indexes: { byTenant: byTenantIndex, ended: endedIndex },
} as const satisfies {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  ttlAttribute: EpisodeItemAttribute;
  versionAttribute: EpisodeItemAttribute;
  leaseAttribute: EpisodeItemAttribute;
  indexes: Record<string, IndexLayout>;
};

/** Every index of the table. */
export const TABLE_INDEXES: readonly IndexLayout[] = Object.values(TABLE_LAYOUT.indexes);

/** Every attribute that is a key of the table or of an index (what CreateTable must define), once each. */
export function keyAttributes(): KeyAttribute[] {
  const keys = [TABLE_LAYOUT.partitionKey, TABLE_LAYOUT.sortKey, ...TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey])];
  return [...new Map(keys.map((key) => [key.name, key])).values()];
}
