import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createEpisode } from '../../layers/core/src';
import type { FindEpisodesResult, FoundEpisode } from '../../layers/cloud/src/batch-find';
import type { BlobStore, StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';

/**
 * Episodes for the batch run's tests (test/cloud/batch-*.test.ts), written in the store's own
 * item layout (EpisodeStore.prepare) with BatchWriteItem: ended ones at chosen end times,
 * active ones last written at a chosen time. Times are in 2030 so that no item has expired.
 */

/** An ended (submitted, graded) episode that ended at `endedAt`. */
export function endedEpisode(tenant: string, episodeId: string, endedAt: string): StoredEpisode {
  const record = createEpisode('easy_mnist');
  record.status = 'submitted';
  record.grade = { score: 0.5, details: {} };
  return storedOf(tenant, episodeId, record, endedAt, endedAt);
}

/** An active episode created and last written at `updatedAt`. */
export function activeEpisode(tenant: string, episodeId: string, updatedAt: string): StoredEpisode {
  return storedOf(tenant, episodeId, createEpisode('easy_mnist'), updatedAt, null);
}

function storedOf(tenant: string, episodeId: string, record: StoredEpisode['record'], at: string, endedAt: string | null): StoredEpisode {
  return {
    tenant,
    episode_id: episodeId,
    version: 0,
    created_at: at,
    updated_at: at,
    record,
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: `c-${episodeId}`,
    ended_at: endedAt,
  };
}

/** Writes the episodes, 25 per BatchWriteItem. */
export async function writeEpisodes(runtime: LocalRuntime, episodes: readonly StoredEpisode[]): Promise<void> {
  const table = runtime.config.tableName;
  for (let from = 0; from < episodes.length; from += 25) {
    let pending: unknown[] = episodes.slice(from, from + 25).map((e) => ({ PutRequest: { Item: runtime.episodes.prepare(e).item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
      const out = await runtime.clients.documents.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

/** An ISO time `ms` milliseconds after `base`. */
export function at(base: string, ms: number): string {
  return new Date(Date.parse(base) + ms).toISOString();
}

export type Found = Extract<FindEpisodesResult, { status: 'found' }>;

/** find-episodes' answer when it found (fails the test otherwise). */
export function foundOf(result: FindEpisodesResult): Found {
  if (result.status !== 'found') throw new Error(`find-episodes answered ${JSON.stringify(result)}`);
  return result;
}

/** The manifest's raw text. */
export async function manifestText(reports: BlobStore, found: Found): Promise<string> {
  const bytes = await reports.get(found.manifest.key);
  if (bytes === null) throw new Error(`no manifest at ${found.manifest.key}`);
  return Buffer.from(bytes).toString('utf8');
}

/** The manifest's lines, parsed (each must be JSON). */
export async function manifestOf(reports: BlobStore, found: Found): Promise<FoundEpisode[]> {
  const text = await manifestText(reports, found);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FoundEpisode);
}
