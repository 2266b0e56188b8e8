import { z } from 'zod';
import type { AgentLabel } from '../../core/src';
import type { EpisodeStore } from '../../storage/src';
import type { Prices } from './config';
import type { EpisodeAgentStore } from './episode-agents';
import { autoSubmitEpisode, gradeStoredEpisode } from './grading';
import { eventText } from './lambda-event';
import type { ReportEntry } from './leaderboard';
import { estimateCost } from './metering';
import { meteringRef, NO_LAMBDA_USAGE, type CloudItems } from './table-items';

/**
 * One child workflow of the batch run's distributed map: a batch of the manifest's episodes
 * (ItemBatcher), each auto-submitted if abandoned, then graded, then labelled with its agent
 * and priced, so that write-report only has to stream the result files. One episode's
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
  agents: Pick<EpisodeAgentStore, 'getMany'>;
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
  return labelAndPrice(deps, entries);
}

async function gradeOne(deps: GradeBatchDeps, runId: string, episode: Episode): Promise<ReportEntry> {
  const request = { tenant: episode.tenant, episode_id: episode.episode_id, run_id: runId };
  const clock = deps.clock ? { clock: deps.clock } : {};
  try {
    if (episode.abandoned) await autoSubmitEpisode({ episodes: deps.episodes, abandonAfterHours: deps.abandonAfterHours, ...clock }, request);
    return await gradeStoredEpisode({ episodes: deps.episodes, ...clock }, { ...request, source: 'batch' });
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { tenant: episode.tenant, episode_id: episode.episode_id, status: 'error', error: message.slice(0, MAX_ERROR_CHARS) };
  }
}

/** The agent label the store holds, and for graded episodes the training's Lambda use and its cost. */
async function labelAndPrice(deps: GradeBatchDeps, entries: ReportEntry[]): Promise<ReportEntry[]> {
  const labels = await deps.agents.getMany(entries);
  const graded = entries.filter((e) => e.status === 'graded' || e.status === 'grade_mismatch');
  const metering = await deps.items.metering.getMany(graded);
  return entries.map((entry) => {
    const labelled = withAgent(entry, labels.get(meteringRef(entry)));
    if (labelled.status !== 'graded' && labelled.status !== 'grade_mismatch') return labelled;
    const usage = metering.get(meteringRef(entry)) ?? NO_LAMBDA_USAGE;
    return { ...labelled, lambda_gb_seconds: usage.lambda_gb_seconds, cost_usd: estimateCost(1, usage, deps.prices).total_usd };
  });
}

function withAgent(entry: ReportEntry, label: AgentLabel | undefined): ReportEntry {
  const { agent: _given, ...rest } = entry;
  return (label === undefined ? rest : { ...rest, agent: label }) as ReportEntry;
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
