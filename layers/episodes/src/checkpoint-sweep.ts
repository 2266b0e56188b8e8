import { CHECKPOINTS_PREFIX, checkpointOwner, type BlobListing, type BlobStore, type EpisodeStore } from '../../storage/src';

/**
 * Objects younger than this are never swept: a step uploads its checkpoint before it commits
 * the item that points to it, so a young unreferenced object may be about to be referenced.
 */
export const DEFAULT_SWEEP_MIN_AGE_SECONDS = 3600;

type ListedObject = BlobListing['items'][number];

/**
 * The orphan rule, one owner for every sweep: an object is deleted when its episode's item
 * does not point to it (or the episode is gone) and it is older than the safe age by the
 * real clock (S3's LastModified). An object of unknown age is kept.
 */
export function isOrphanCheckpoint(object: ListedObject, referencedKey: string | null | undefined, cutoffMs: number): boolean {
  if (object.key === referencedKey) return false;
  return object.lastModified !== undefined && object.lastModified.getTime() <= cutoffMs;
}

export interface CheckpointSweepOptions {
  /** Default DEFAULT_SWEEP_MIN_AGE_SECONDS; 0 sweeps every unreferenced object. */
  minAgeSeconds?: number;
  /** At most this many objects are examined (a bounded run); default all. */
  maxObjects?: number;
  /** Where the previous bounded run stopped (its `cursor`); null or absent: from the first key. */
  cursor?: string | null;
  /** The real clock (S3 stamps objects with it). */
  now?: () => number;
}

export interface CheckpointSweepResult {
  examined: number;
  deleted: string[];
  /** Where the next run continues; null when this run reached the last key. */
  cursor: string | null;
}

/**
 * Sweeps the whole checkpoint bucket for orphans: objects left by a process that died
 * between a checkpoint's upload and its commit (or between the commit and the superseded
 * checkpoint's deletion), and those of episodes that no longer exist. Each episode's item
 * is read once per run (a strongly consistent read, after the listing: a step that commits
 * meanwhile makes its new object referenced, and its old one an orphan either way).
 */
export async function sweepOrphanCheckpoints(
  stores: { episodes: EpisodeStore; checkpoints: BlobStore },
  options: CheckpointSweepOptions = {},
): Promise<CheckpointSweepResult> {
  const now = options.now ?? Date.now;
  const cutoff = now() - (options.minAgeSeconds ?? DEFAULT_SWEEP_MIN_AGE_SECONDS) * 1000;
  const max = options.maxObjects ?? Number.POSITIVE_INFINITY;
  const referenced = new Map<string, string | null>();
  const deleted: string[] = [];
  let examined = 0;
  let cursor = options.cursor ?? null;
  do {
    const page = await stores.checkpoints.list(CHECKPOINTS_PREFIX, { cursor, limit: Math.min(1000, max - examined) });
    const orphans: string[] = [];
    for (const object of page.items) {
      const owner = checkpointOwner(object.key);
      if (owner === null) continue;
      const id = `${owner.tenant}/${owner.episodeId}`;
      if (!referenced.has(id)) referenced.set(id, (await stores.episodes.get(owner.tenant, owner.episodeId))?.checkpoint?.key ?? null);
      if (isOrphanCheckpoint(object, referenced.get(id), cutoff)) orphans.push(object.key);
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: deleteMany of no keys sends no request and deletes nothing; the guard only skips a no-op call
    if (orphans.length > 0) await stores.checkpoints.deleteMany(orphans);
    deleted.push(...orphans);
    examined += page.items.length;
    cursor = page.cursor;
  } while (cursor !== null && examined < max);
  return { examined, deleted, cursor };
}
