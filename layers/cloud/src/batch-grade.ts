import { z } from 'zod';
import type { EpisodeStore } from '../../storage/src';
import type { Prices } from './config';
import { autoSubmitEpisode, gradeStoredEpisodeLabelled } from './grading';
import { eventText } from './lambda-event';
import type { ReportEntry } from './leaderboard';
import { estimateCost } from './metering';
import { meteringRef, NO_LAMBDA_USAGE, type CloudItems } from './table-items';

/**
 * One child workflow of the batch run's distributed map: a batch of the manifest's episodes
 * (ItemBatcher), each auto-submitted if abandoned, then graded, labelled with its agent (the
 * record's, from the same read) and priced, so that write-report only has to stream the
 * result files. One episode's
 * failure is its entry (status "error"), never the batch's: a failed child is left for
 * Lambda's own crashes and time-outs.
 */

/**
 * Episodes one invocation takes at most: its answer (an entry is at most ~0.7 KB, a long agent
 * label included) stays well under Step Functions' 256 KB per child output.
 */
export const MAX_EPISODES_PER_INVOCATION = 200;

export const gradeBatchEventSchema = z.object({
  run_id: eventText,
  episodes: z
    .array(z.object({ tenant: eventText, episode_id: eventText, abandoned: z.boolean({ error: 'true or false' }).default(false) }), { error: 'an array' })
    .max(MAX_EPISODES_PER_INVOCATION, { error: `at most ${MAX_EPISODES_PER_INVOCATION} episodes` }),
});

export type GradeBatchEvent = z.output<typeof gradeBatchEventSchema>;

export interface GradeBatchDeps {
  episodes: EpisodeStore;
  items: CloudItems;
  prices: Prices;
  abandonAfterHours: number;
  /** Episodes graded at once within the invocation (default 8: each is two or three small table calls). */
  concurrency?: number;
  clock?: () => Date;
}

type Episode = GradeBatchEvent['episodes'][number];

/** Error entries keep the error's first characters: a cause can be long. */
const MAX_ERROR_CHARS = 500;

export async function gradeBatch(deps: GradeBatchDeps, event: GradeBatchEvent): Promise<ReportEntry[]> {
  const entries = await mapWithConcurrency(event.episodes, deps.concurrency ?? 8, (episode) => gradeOne(deps, event.run_id, episode));
  return price(deps, entries);
}

/** The episode's entry, with the agent label its record holds (read once, by the grading). */
async function gradeOne(deps: GradeBatchDeps, runId: string, episode: Episode): Promise<ReportEntry> {
  const request = { tenant: episode.tenant, episode_id: episode.episode_id, run_id: runId };
  const clock = deps.clock ? { clock: deps.clock } : {};
  try {
    if (episode.abandoned) await autoSubmitEpisode({ episodes: deps.episodes, abandonAfterHours: deps.abandonAfterHours, ...clock }, request);
    const { result, agent } = await gradeStoredEpisodeLabelled({ episodes: deps.episodes, ...clock }, { ...request, source: 'batch' });
    return agent === null ? result : { ...result, agent };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { tenant: episode.tenant, episode_id: episode.episode_id, status: 'error', error: message.slice(0, MAX_ERROR_CHARS) };
  }
}

/** Graded episodes with the training's Lambda use and its cost (the metering items, one BatchGetItem per 100). */
async function price(deps: GradeBatchDeps, entries: ReportEntry[]): Promise<ReportEntry[]> {
  const graded = entries.filter((e) => e.status === 'graded' || e.status === 'grade_mismatch');
  const metering = await deps.items.metering.getMany(graded);
  return entries.map((entry) => {
    if (entry.status !== 'graded' && entry.status !== 'grade_mismatch') return entry;
    const usage = metering.get(meteringRef(entry)) ?? NO_LAMBDA_USAGE;
    return { ...entry, lambda_gb_seconds: usage.lambda_gb_seconds, cost_usd: estimateCost(1, usage, deps.prices).total_usd };
  });
}

/**
 * Runs `work` on each item with at most `limit` at once, answers in the items' order.
 * Hand-written (a dozen lines) rather than a dependency: nothing else here needs a pool.
 */
async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
