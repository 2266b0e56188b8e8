import { buildLeaderboardInput, formatTime, formatUsd, type LeaderboardEntry, type LeaderboardInput, renderLeaderboardHtml } from '../../reports/src';
import type { BaselineScores, Prices } from './config';
import type { GradeResult } from './grading';

/**
 * The batch run's report: the JSON (BatchReport, built here) and its HTML leaderboard, which
 * is the product's leaderboard (layers/reports: the same page as the dashboard's, with the
 * score distribution and the baseline agent's score per task) fed from the JSON.
 */

/** One episode of the batch report: its grade result, or the failure Step Functions recorded. */
export type ReportEntry =
  | (GradeResult & { cost_usd?: number; lambda_gb_seconds?: number })
  | { tenant: string; episode_id: string; status: 'error'; error: string; task_id?: null };

export interface BatchReport {
  run_id: string;
  started_at: string | null;
  since: string | null;
  until: string | null;
  truncated: boolean;
  generated_at: string;
  prices: Prices;
  /** The baseline agent's score per task (BASELINE_SCORES), shown for reference. */
  baselines: BaselineScores;
  counts: Record<string, number>;
  /** Per task, the ranked graded episodes (best first). */
  leaderboards: Record<string, RankedEntry[]>;
  /** Everything else (not ended, not found, failed). */
  unranked: ReportEntry[];
}

export interface RankedEntry {
  rank: number;
  tenant: string;
  episode_id: string;
  score: number;
  accuracy: number | null;
  epochs: number | null;
  steps: number | null;
  ended: string | null;
  ended_at: string | null;
  cost_usd: number | null;
  grade_matches: boolean;
}

function isRanked(entry: ReportEntry): entry is GradeResult & { cost_usd?: number } {
  return (entry.status === 'graded' || entry.status === 'grade_mismatch') && typeof entry.score === 'number' && typeof entry.task_id === 'string';
}

/**
 * Best score first; ties: higher accuracy, fewer epochs, earlier end, then tenant and episode
 * id (a total order, so reruns rank alike). The HTML shows the product leaderboard's ranks
 * (layers/reports rankEntries: the same order up to the end time, but equal score and accuracy
 * share a rank).
 */
function compare(a: RankedEntry, b: RankedEntry): number {
  return (
    b.score - a.score ||
    (b.accuracy ?? 0) - (a.accuracy ?? 0) ||
    (a.epochs ?? Infinity) - (b.epochs ?? Infinity) ||
    (a.ended_at ?? '').localeCompare(b.ended_at ?? '') ||
    a.tenant.localeCompare(b.tenant) ||
    a.episode_id.localeCompare(b.episode_id)
  );
}

export function buildReport(input: {
  run_id: string;
  started_at: string | null;
  since: string | null;
  until: string | null;
  truncated: boolean;
  generated_at: string;
  prices: Prices;
  baselines?: BaselineScores;
  entries: ReportEntry[];
}): BatchReport {
  const counts: Record<string, number> = { episodes: input.entries.length };
  const byTask = new Map<string, RankedEntry[]>();
  const unranked: ReportEntry[] = [];
  for (const entry of input.entries) {
    counts[entry.status] = (counts[entry.status] ?? 0) + 1;
    if (!isRanked(entry)) {
      unranked.push(entry);
      continue;
    }
    const list = byTask.get(entry.task_id!) ?? [];
    list.push({
      rank: 0,
      tenant: entry.tenant,
      episode_id: entry.episode_id,
      score: entry.score!,
      accuracy: entry.accuracy ?? null,
      epochs: entry.epochs ?? null,
      steps: entry.steps ?? null,
      ended: entry.ended ?? null,
      ended_at: entry.ended_at ?? null,
      cost_usd: entry.cost_usd ?? null,
      grade_matches: entry.status === 'graded',
    });
    byTask.set(entry.task_id!, list);
  }
  const leaderboards: Record<string, RankedEntry[]> = {};
  for (const task of [...byTask.keys()].sort()) {
    leaderboards[task] = byTask
      .get(task)!
      .sort(compare)
      .map((e, i) => ({ ...e, rank: i + 1 }));
  }
  return {
    run_id: input.run_id,
    started_at: input.started_at,
    since: input.since,
    until: input.until,
    truncated: input.truncated,
    generated_at: input.generated_at,
    prices: input.prices,
    baselines: { ...input.baselines },
    counts,
    leaderboards,
    unranked,
  };
}

export const BASELINE_LABEL = 'baseline agent';

function plain(value: number): string {
  return Number.isFinite(value) ? value.toFixed(12).replace(/\.?0+$/, '') : '–';
}

/** The report as the product leaderboard's input (plain JSON). */
export function leaderboardInputOf(report: BatchReport): LeaderboardInput {
  const entries: (LeaderboardEntry & { task_id: string })[] = [];
  for (const [task_id, ranked] of Object.entries(report.leaderboards)) {
    for (const e of ranked) {
      entries.push({
        task_id,
        episode_id: e.episode_id,
        agent: e.tenant,
        status: `${e.ended ?? 'ended'}${e.grade_matches ? '' : ' (grade mismatch: the recorded grade stands)'}`,
        score: e.score,
        val_accuracy: e.accuracy,
        epochs_used: e.epochs,
        steps: e.steps,
        cost_usd: e.cost_usd,
        ended_at: e.ended_at,
      });
    }
  }
  const baselines = Object.fromEntries(Object.entries(report.baselines).map(([task, score]) => [task, { score, label: BASELINE_LABEL }]));
  const counts = Object.entries(report.counts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');
  const p = report.prices;
  return {
    ...buildLeaderboardInput(entries, {
      title: 'ml-trainer-env leaderboard',
      subtitle:
        `Run ${report.run_id} · episodes ended from ${report.since ? formatTime(report.since) : '–'} to ${report.until ? formatTime(report.until) : '–'}` +
        (report.truncated ? ' (truncated: the next run continues)' : ''),
      generated_at: report.generated_at,
      baselines,
    }),
    notes: [
      counts,
      `Estimated cost: ${formatUsd(p.perEpisodeUsd)} per episode + training Lambda GB-seconds × ${plain(p.lambdaGbSecondUsd)} + requests × ${plain(p.lambdaRequestUsd)} (USD).`,
    ],
    unranked: report.unranked.map((e) => ({
      episode_id: e.episode_id,
      agent: e.tenant,
      task_id: e.task_id ?? null,
      status: e.status,
      detail: 'error' in e ? e.error : null,
    })),
  };
}

/** The batch leaderboard page: self-contained, no script, every string escaped (layers/reports). */
export function renderBatchLeaderboardHtml(report: BatchReport): string {
  return renderLeaderboardHtml(leaderboardInputOf(report));
}
