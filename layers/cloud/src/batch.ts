import { z } from 'zod';
import type { AgentLabel } from '../../core/src';
import { sweepOrphanCheckpoints, type CheckpointSweepResult } from '../../episodes/src';
import type { BlobStore, EndedEpisodeRef, EpisodeStore } from '../../storage/src';
import { defaultBaselineScores, type BaselineScores, type Prices } from './config';
import type { GradeResult } from './grading';
import { eventText, eventTime } from './lambda-event';
import { BATCH_LEADERBOARD_FILES, buildReport, renderBatchLeaderboardHtml, type ReportEntry } from './leaderboard';
import { estimateCost } from './metering';
import type { EpisodeAgentStore } from './episode-agents';
import { meteringRef, NO_LAMBDA_USAGE, type CloudItems } from './table-items';

/**
 * The batch run's two ends (functions/README.md, "Batch run"): find-episodes picks the
 * episodes ended since the last successful run plus the abandoned active ones;
 * write-report writes the report and the leaderboard, moves the run window on and sweeps
 * orphan checkpoints (a bounded part of the bucket per run).
 */

/** find-episodes' event (Step Functions task input `{"run_id", "started_at", "request"}`). */
export const findEpisodesEventSchema = z.object({
  run_id: eventText,
  started_at: eventTime,
  /** The execution input: `{"trigger": "schedule"}`, or a manual run's `{"trigger": "manual", "since"?, "until"?}`. */
  request: z
    .object({ trigger: z.string({ error: 'a string' }).optional(), since: eventTime, until: eventTime }, { error: 'an object' })
    .nullish(),
});

export type FindEpisodesEvent = z.output<typeof findEpisodesEventSchema>;

/** auto-submit's event (one abandoned episode of a run). */
export const autoSubmitEventSchema = z.object({ run_id: eventText, tenant: eventText, episode_id: eventText });

export type AutoSubmitEvent = z.output<typeof autoSubmitEventSchema>;

export interface FoundEpisode {
  tenant: string;
  episode_id: string;
  abandoned: boolean;
}

export interface FindEpisodesResult {
  since: string;
  until: string;
  truncated: boolean;
  episodes: FoundEpisode[];
}

export interface FindEpisodesDeps {
  episodes: EpisodeStore;
  items: CloudItems;
  abandonAfterHours: number;
  maxEpisodes: number;
  /** The first run (no state yet) looks back this far: the episodes' retention. */
  retentionSeconds: number;
  clock?: () => Date;
}

/** An eventTime's Date. */
function dateOf(time: string | undefined): Date | null {
  return time === undefined ? null : new Date(time);
}

export async function findEpisodes(deps: FindEpisodesDeps, event: FindEpisodesEvent): Promise<FindEpisodesResult> {
  const clock = deps.clock ?? (() => new Date());
  const request = event.request ?? {};
  const until = dateOf(request.until) ?? dateOf(event.started_at) ?? clock();
  const state = await deps.items.batch.get();
  const since =
    dateOf(request.since) ??
    (state ? new Date(state.last_until) : new Date(until.getTime() - deps.retentionSeconds * 1000));
  const max = Math.max(1, Math.floor(deps.maxEpisodes));
  if (!(since.getTime() < until.getTime())) {
    return { since: since.toISOString(), until: until.toISOString(), truncated: false, episodes: [] };
  }

  // Ended in [since, until), oldest first; one more than fits tells whether the run is truncated.
  const ended: EndedEpisodeRef[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<EpisodeStore['listEnded']>> = await deps.episodes.listEnded(since, {
      until,
      limit: Math.min(1000, max + 1 - ended.length),
      cursor,
    });
    // An episode a run auto-submitted was reported by that run.
    ended.push(...page.items.filter((e) => e.auto_submitted_by === undefined || e.auto_submitted_by === event.run_id));
    cursor = page.cursor;
  } while (cursor !== null && ended.length <= max);

  let effectiveUntil = until;
  let truncated = false;
  let chosen = ended;
  if (ended.length > max) {
    truncated = true;
    // Stop before the first episode left out, so that the next run (from this run's until) starts with it.
    const cut = ended[max]!.ended_at;
    const before = ended.slice(0, max).filter((e) => e.ended_at < cut);
    if (before.length > 0) {
      chosen = before;
      effectiveUntil = new Date(cut);
    } else {
      // More than max episodes ended within one millisecond: take max of them and move past it.
      chosen = ended.slice(0, max);
      effectiveUntil = new Date(Date.parse(cut) + 1);
    }
  }

  const episodes: FoundEpisode[] = chosen.map((e) => ({ tenant: e.tenant, episode_id: e.episode_id, abandoned: false }));
  const room = max - episodes.length;
  if (room > 0) {
    const idleSince = new Date(until.getTime() - deps.abandonAfterHours * 3_600_000);
    const abandoned: FoundEpisode[] = [];
    for (const tenant of await deps.items.tenants.list()) {
      const idle = await deps.episodes.listIdleActive(tenant, idleSince, { limit: room + 1 - abandoned.length });
      abandoned.push(...idle.map((e) => ({ tenant, episode_id: e.episode_id, abandoned: true })));
      if (abandoned.length > room) break;
    }
    if (abandoned.length > room) truncated = true; // the rest stay active and idle: the next run finds them
    episodes.push(...abandoned.slice(0, room));
  } else if (room === 0 && !truncated) {
    // Full with ended episodes: abandoned ones wait for the next run.
    truncated = (await anyAbandoned(deps, until)) || truncated;
  }
  return { since: since.toISOString(), until: effectiveUntil.toISOString(), truncated, episodes };
}

async function anyAbandoned(deps: FindEpisodesDeps, until: Date): Promise<boolean> {
  const idleSince = new Date(until.getTime() - deps.abandonAfterHours * 3_600_000);
  for (const tenant of await deps.items.tenants.list()) {
    if ((await deps.episodes.listIdleActive(tenant, idleSince, { limit: 1 })).length > 0) return true;
  }
  return false;
}

/** write-report's event (`{"run_id", "started_at", "since", "until", "truncated", "results"}`). */
export const writeReportEventSchema = z.object({
  run_id: eventText,
  started_at: eventTime,
  since: eventTime,
  until: eventTime,
  /** Step Functions passes the boolean through a string path: true, "true" or false. */
  truncated: z
    .union([z.boolean(), z.enum(['true', 'false'])], { error: 'true, false, "true" or "false"' })
    .optional()
    .transform((truncated) => truncated === true || truncated === 'true'),
  /** The Map state's results: grade answers and the Catch's error entries. */
  results: z.array(z.unknown(), { error: 'an array' }).default([]),
});

export type WriteReportEvent = z.output<typeof writeReportEventSchema>;

export interface WriteReportDeps {
  reports: BlobStore;
  /** REPORTS_PREFIX, e.g. `reports/`. */
  prefix: string;
  items: CloudItems;
  /** Who played each episode (the episode items' labels). */
  agents: Pick<EpisodeAgentStore, 'getMany'>;
  prices: Prices;
  /** The baseline agent's score per task (BASELINE_SCORES); default each task's measured baseline score. */
  baselines?: BaselineScores;
  clock?: () => Date;
}

export interface WriteReportResult {
  report_key: string;
  /** The leaderboard grouped by agent (each task's episodes folded below). */
  leaderboard_key: string;
  /** The same leaderboard ranking episodes; the two pages link to each other. */
  leaderboard_by_episode_key: string;
}

function safeSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 128);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'run' : cleaned;
}

/**
 * One result of the Map state: the Catch's error entry (its error cut to 500 characters), or
 * the grade Lambda's answer as it is. Anything else is left out of the report.
 */
const reportEntrySchema = z.union([
  z
    .object({ tenant: z.string(), episode_id: z.string(), status: z.literal('error'), error: z.unknown() })
    .transform((e): ReportEntry => ({ tenant: e.tenant, episode_id: e.episode_id, status: 'error', error: String(e.error ?? 'unknown error').slice(0, 500) })),
  z.looseObject({ tenant: z.string(), episode_id: z.string(), status: z.string() }).transform((e) => e as unknown as GradeResult),
]);

function entryOf(value: unknown): ReportEntry | null {
  const parsed = reportEntrySchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** The entry with the label the store holds (whatever the grade answer said: it carries none). */
function withAgent(entry: ReportEntry, label: AgentLabel | undefined): ReportEntry {
  const { agent: _given, ...rest } = entry;
  return (label === undefined ? rest : { ...rest, agent: label }) as ReportEntry;
}

/**
 * Writes `<prefix><YYYY-MM-DD>/<run_id>/report.json`, `.../leaderboard.html` (by agent) and
 * `.../leaderboard-by-episode.html` (the day is the run window's end), then records the
 * window's end as the next run's start.
 */
export async function writeReport(deps: WriteReportDeps, event: WriteReportEvent): Promise<WriteReportResult> {
  const clock = deps.clock ?? (() => new Date());
  const labels = await deps.agents.getMany(event.results.map(entryOf).filter((e): e is ReportEntry => e !== null));
  const entries = event.results
    .map(entryOf)
    .filter((e): e is ReportEntry => e !== null)
    .map((e) => withAgent(e, labels.get(meteringRef(e))));
  const graded = entries.filter((e): e is GradeResult => e.status === 'graded' || e.status === 'grade_mismatch');
  const metering = await deps.items.metering.getMany(graded);
  const priced: ReportEntry[] = entries.map((entry) => {
    if (entry.status !== 'graded' && entry.status !== 'grade_mismatch') return entry;
    const usage = metering.get(meteringRef(entry)) ?? NO_LAMBDA_USAGE;
    return { ...entry, lambda_gb_seconds: usage.lambda_gb_seconds, cost_usd: estimateCost(1, usage, deps.prices).total_usd };
  });
  const until = dateOf(event.until);
  const generatedAt = clock().toISOString();
  const report = buildReport({
    run_id: event.run_id,
    started_at: event.started_at ?? null,
    since: event.since ?? null,
    until: until ? until.toISOString() : null,
    truncated: event.truncated,
    generated_at: generatedAt,
    prices: deps.prices,
    baselines: deps.baselines ?? defaultBaselineScores(),
    entries: priced,
  });
  const prefix = deps.prefix === '' || deps.prefix.endsWith('/') ? deps.prefix : `${deps.prefix}/`;
  const day = (until ?? dateOf(event.started_at) ?? clock()).toISOString().slice(0, 10);
  const base = `${prefix}${day}/${safeSegment(report.run_id)}/`;
  const result: WriteReportResult = {
    report_key: `${base}report.json`,
    leaderboard_key: `${base}${BATCH_LEADERBOARD_FILES.agent}`,
    leaderboard_by_episode_key: `${base}${BATCH_LEADERBOARD_FILES.episode}`,
  };
  await deps.reports.put(result.report_key, `${JSON.stringify({ ...report, results: priced }, null, 2)}\n`, {
    contentType: 'application/json',
  });
  await deps.reports.put(result.leaderboard_key, renderBatchLeaderboardHtml(report, 'agent'), { contentType: 'text/html; charset=utf-8' });
  await deps.reports.put(result.leaderboard_by_episode_key, renderBatchLeaderboardHtml(report, 'episode'), { contentType: 'text/html; charset=utf-8' });
  if (until) await deps.items.batch.advance(until.toISOString(), report.run_id);
  return result;
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
