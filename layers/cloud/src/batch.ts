import { z } from 'zod';
import { sweepOrphanCheckpoints, type CheckpointSweepResult } from '../../episodes/src';
import type { BlobStore, EpisodeStore } from '../../storage/src';
import { safeSegment } from './batch-files';
import { BatchReportBuilder } from './batch-report-builder';
import { mapResultSchema, mapRunEntries } from './batch-results';
import { defaultBaselineScores, type BaselineScores, type Prices } from './config';
import { eventText, eventTime } from './lambda-event';
import { BATCH_LEADERBOARD_FILES, renderBatchLeaderboardHtml } from './leaderboard';
import type { CloudItems } from './table-items';

/**
 * The batch run's last step (functions/README.md, "Batch run"): write-report streams the
 * distributed map's result files into the report (memory bounded by tasks, agents and
 * tenants, not by episodes), writes the JSON and the two HTML leaderboards, moves the run
 * window on (releasing the run's claim) and says whether the run must continue; then the
 * handler sweeps orphan checkpoints (a bounded part of the bucket per run).
 */

const foundSchema = z.discriminatedUnion(
  'status',
  [
    z.object({
      status: z.literal('found'),
      since: eventTime,
      until: eventTime,
      truncated: z.boolean({ error: 'true or false' }),
      advances_window: z.boolean({ error: 'true or false' }).default(true),
      counts: z.object({ ended: z.number(), abandoned: z.number(), total: z.number(), carried_over: z.number() }, { error: 'an object of counts' }),
    }),
    z.object({ status: z.literal('busy') }),
  ],
  { error: 'find-episodes\' answer ({"status": "found" | "busy", ...})' },
);

/** write-report's event (`{"run_id", "started_at", "found", "graded"}`): find-episodes' answer and the map's output. */
export const writeReportEventSchema = z.object({
  run_id: eventText,
  started_at: eventTime,
  found: foundSchema,
  graded: mapResultSchema,
});

export type WriteReportEvent = z.output<typeof writeReportEventSchema>;

export interface WriteReportDeps {
  reports: BlobStore;
  /** REPORTS_PREFIX, e.g. `reports/`. */
  prefix: string;
  items: CloudItems;
  prices: Prices;
  /** The baseline agent's score per task (BASELINE_SCORES); default each task's measured baseline score. */
  baselines?: BaselineScores;
  clock?: () => Date;
  /** Told of each result line that is not an entry (logged by the handler). */
  onSkipped?: (line: string) => void;
}

export interface WriteReportResult {
  report_key: string;
  /** The leaderboard grouped by agent (each task's episodes folded below). */
  leaderboard_key: string;
  /** The same leaderboard ranking episodes; the two pages link to each other. */
  leaderboard_by_episode_key: string;
  /** Episodes by report status (graded, grade_mismatch, error, ...) and the ones carried over to the continuation. */
  counts: Record<string, number>;
  /** The run stopped at its cap: the state machine starts a continuation. */
  continue: boolean;
}

/**
 * Writes `<prefix><YYYY-MM-DD>/<run_id>/report.json`, `.../leaderboard.html` (by agent) and
 * `.../leaderboard-by-episode.html` (the day is the run window's end), then records the
 * window's end as the next run's start (a manual run over a window of its choosing leaves
 * it) and releases the run's claim.
 */
export async function writeReport(deps: WriteReportDeps, event: WriteReportEvent): Promise<WriteReportResult | null> {
  const found = event.found;
  if (found.status !== 'found') return null;
  const clock = deps.clock ?? (() => new Date());
  const builder = new BatchReportBuilder({ baselines: deps.baselines ?? defaultBaselineScores() });
  for await (const entry of mapRunEntries(deps.reports, event.graded, deps.onSkipped)) builder.add(entry);
  const report = builder.finish({
    run_id: event.run_id,
    started_at: event.started_at ?? null,
    since: found.since ?? null,
    until: found.until ?? null,
    truncated: found.truncated,
    generated_at: clock().toISOString(),
    prices: deps.prices,
  });
  const counts = { ...report.counts, carried_over: found.counts.carried_over };
  const prefix = deps.prefix === '' || deps.prefix.endsWith('/') ? deps.prefix : `${deps.prefix}/`;
  const day = (found.until ?? event.started_at ?? clock().toISOString()).slice(0, 10);
  const base = `${prefix}${day}/${safeSegment(report.run_id)}/`;
  const keys = {
    report_key: `${base}report.json`,
    leaderboard_key: `${base}${BATCH_LEADERBOARD_FILES.agent}`,
    leaderboard_by_episode_key: `${base}${BATCH_LEADERBOARD_FILES.episode}`,
  };
  const results = event.graded?.ResultWriterDetails ? { bucket: event.graded.ResultWriterDetails.Bucket, manifest_key: event.graded.ResultWriterDetails.Key } : null;
  await deps.reports.put(keys.report_key, `${JSON.stringify({ ...report, counts, results }, null, 2)}\n`, { contentType: 'application/json' });
  await deps.reports.put(keys.leaderboard_key, renderBatchLeaderboardHtml(report, 'agent'), { contentType: 'text/html; charset=utf-8' });
  await deps.reports.put(keys.leaderboard_by_episode_key, renderBatchLeaderboardHtml(report, 'episode'), { contentType: 'text/html; charset=utf-8' });
  // The claim is given up either way: kept, it would hold the next run off until it expires.
  const advanced = found.advances_window && found.until !== undefined && (await deps.items.batch.advance(found.until, report.run_id));
  if (!advanced) await deps.items.batch.release(report.run_id);
  return { ...keys, counts, continue: found.truncated };
}

/** Checkpoint objects a run examines at most; the next run continues where it stopped. */
const MAX_SWEPT_OBJECTS_PER_RUN = 5000;

export interface SweepRunDeps {
  episodes: EpisodeStore;
  checkpoints: BlobStore;
  items: CloudItems;
  maxObjects?: number;
  /** The real clock (S3's LastModified is by it); default Date.now. */
  now?: () => number;
}

/**
 * One run's share of the orphan-checkpoint sweep (episodes' sweepOrphanCheckpoints: objects
 * no episode item points to, older than the safe age), continuing from where the previous
 * run stopped; after the last key the next run starts over.
 */
export async function sweepRunCheckpoints(deps: SweepRunDeps): Promise<CheckpointSweepResult> {
  const result = await sweepOrphanCheckpoints(deps, {
    cursor: await deps.items.batch.sweepCursor(),
    maxObjects: deps.maxObjects ?? MAX_SWEPT_OBJECTS_PER_RUN,
    ...(deps.now ? { now: deps.now } : {}),
  });
  await deps.items.batch.setSweepCursor(result.cursor);
  return result;
}
