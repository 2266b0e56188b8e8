import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { userCacheRoot, writeFileAtomic } from '../layers/datasets/src';

/**
 * Scores of the reference policies (default, baseline) by (task, seed, policy, trainer
 * version), so an eval compares against them without playing them again. The trainer
 * version says what makes a cached score valid: the ml-trainer version, the trainer kind
 * (tfjs or formula) and where it ran (in-process, or the server's URL).
 */
export const REFERENCE_CACHE_FILE = 'eval-reference-scores.json';

const entrySchema = z.object({
  score: z.number().finite(),
  epochs_used: z.number().int().min(0),
  steps: z.number().int().min(0),
  stored_at: z.string(),
});
const cacheFileSchema = z.object({ schema_version: z.literal(1), entries: z.record(z.string(), entrySchema) });

export type CachedScore = z.infer<typeof entrySchema>;

export interface ReferenceKey {
  task_id: string;
  seed: number;
  policy: string;
  trainer_version: string;
}

/** The default folder of the cache and the journals: `<user cache root>/eval`. */
export function defaultEvalCacheDir(env: NodeJS.ProcessEnv): string {
  return join(userCacheRoot(env), 'eval');
}

const keyOf = (k: ReferenceKey): string => JSON.stringify([k.task_id, k.seed, k.policy, k.trainer_version]);

export class ReferenceScoreCache {
  private constructor(
    readonly path: string,
    private entries: Record<string, CachedScore>,
    private readonly warn: (message: string) => void,
  ) {}

  /** The cache in `dir`; a missing file is an empty cache, a damaged one too (with a warning). */
  static async open(dir: string, warn: (message: string) => void): Promise<ReferenceScoreCache> {
    const path = join(dir, REFERENCE_CACHE_FILE);
    return new ReferenceScoreCache(path, await readEntries(path, warn), warn);
  }

  get(key: ReferenceKey): CachedScore | undefined {
    return this.entries[keyOf(key)];
  }

  /**
   * Stores scores and writes the file atomically. The file is read again first, so two
   * evals that fill the cache at once keep each other's entries (the last write of the
   * same key wins; both computed the same score). A cache that cannot be written is a
   * warning: the scores still serve this eval, a later one plays them again.
   */
  async put(items: readonly { key: ReferenceKey; score: Omit<CachedScore, 'stored_at'> }[]): Promise<void> {
    if (items.length === 0) return;
    const storedAt = new Date().toISOString();
    const add = (entries: Record<string, CachedScore>) => {
      for (const { key, score } of items) entries[keyOf(key)] = { ...score, stored_at: storedAt };
      return entries;
    };
    try {
      const current = add(await readEntries(this.path, () => undefined));
      await writeFileAtomic(this.path, `${JSON.stringify({ schema_version: 1, entries: current })}\n`);
      this.entries = current;
    } catch (error) {
      this.entries = add({ ...this.entries });
      this.warn(`cannot write the reference score cache ${this.path} (${(error as Error).message}); give --cache-dir a writable folder to keep them`);
    }
  }
}

async function readEntries(path: string, warn: (message: string) => void): Promise<Record<string, CachedScore>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read the reference score cache ${path} (${(error as Error).message}); the reference episodes are played again`);
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = cacheFileSchema.safeParse(json);
  if (parsed.success) return parsed.data.entries;
  warn(`${path} is not a reference score cache (damaged or from another version); the reference episodes are played again and it is rewritten`);
  return {};
}
