import { agentLabelKey, agentLabelSchema, type AgentLabel } from '../../core/src';
import {
  agentStandings,
  buildLeaderboardInput,
  formatTime,
  formatUsd,
  renderLeaderboardHtml,
  type AgentStanding,
  type LeaderboardEntry,
  type LeaderboardGrouping,
  type LeaderboardInput,
} from '../../reports/src';
import type { BaselineScores, Prices } from './config';
import type { GradeResult } from './grading';

/**
 * The batch run's report: the JSON (BatchReport, built here) and its HTML leaderboard, which
 * is the product's leaderboard (layers/reports: the same page as the dashboard's, with the
 * score distribution and the baseline agent's score per task) fed from the JSON. Episodes
 * are shown with who played them and summarised per agent (agentLabelKey; "unlabelled").
 */

/** One episode of the batch report: its grade result, or the failure Step Functions recorded; with its agent label where it has one (read by write-report). */
export type ReportEntry = (
  | (GradeResult & { cost_usd?: number; lambda_gb_seconds?: number })
  | { tenant: string; episode_id: string; status: 'error'; error: string; task_id?: null }
) & { agent?: AgentLabel };

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
  /** Per task, its agents ranked by mean score (layers/reports agentStandings). */
  agents: Record<string, AgentStanding[]>;
  /** Everything else (not ended, not found, failed). */
  unranked: ReportEntry[];
}

export interface RankedEntry {
  rank: number;
  tenant: string;
  episode_id: string;
  /** Who played it: the agent key ("llm gpt-4o-mini @v3", "unlabelled"). */
  agent: string;
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
      agent: agentKeyOf(entry),
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
  const agents: Record<string, AgentStanding[]> = {};
  for (const task of [...byTask.keys()].sort()) {
    leaderboards[task] = byTask
      .get(task)!
      .sort(compare)
      .map((e, i) => ({ ...e, rank: i + 1 }));
    agents[task] = agentStandings(leaderboards[task].map(leaderboardEntryOf));
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
    agents,
    unranked,
  };
}

/** The agent key of a report entry; anything that is not a label (a report JSON edited by hand) counts as unlabelled. */
function agentKeyOf(entry: ReportEntry): string {
  const parsed = agentLabelSchema.safeParse(entry.agent);
  return agentLabelKey(parsed.success ? parsed.data : null);
}

/** A ranked entry as the product leaderboard's entry. */
function leaderboardEntryOf(e: RankedEntry): LeaderboardEntry {
  return {
    episode_id: e.episode_id,
    agent: e.agent,
    tenant: e.tenant,
    status: `${e.ended ?? 'ended'}${e.grade_matches ? '' : ' (grade mismatch: the recorded grade stands)'}`,
    score: e.score,
    val_accuracy: e.accuracy,
    epochs_used: e.epochs,
    steps: e.steps,
    cost_usd: e.cost_usd,
    ended_at: e.ended_at,
  };
}

export const BASELINE_LABEL = 'baseline agent';

function plain(value: number): string {
  return Number.isFinite(value) ? value.toFixed(12).replace(/\.?0+$/, '') : '–';
}

/** The two leaderboard pages a batch run writes next to its report.json, linked to each other (relative links). */
export const BATCH_LEADERBOARD_FILES: Record<LeaderboardGrouping, string> = { agent: 'leaderboard.html', episode: 'leaderboard-by-episode.html' };

/** The report as the product leaderboard's input (plain JSON), grouped by agent unless told otherwise. */
export function leaderboardInputOf(report: BatchReport, groupBy: LeaderboardGrouping = 'agent'): LeaderboardInput {
  const entries: (LeaderboardEntry & { task_id: string })[] = [];
  for (const [task_id, ranked] of Object.entries(report.leaderboards)) {
    for (const e of ranked) entries.push({ task_id, ...leaderboardEntryOf(e) });
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
      group_by: groupBy,
      grouping_hrefs: BATCH_LEADERBOARD_FILES,
    }),
    notes: [
      counts,
      `Estimated cost: ${formatUsd(p.perEpisodeUsd)} per episode + training Lambda GB-seconds × ${plain(p.lambdaGbSecondUsd)} + requests × ${plain(p.lambdaRequestUsd)} (USD).`,
    ],
    unranked: report.unranked.map((e) => ({
      episode_id: e.episode_id,
      agent: agentKeyOf(e),
      tenant: e.tenant,
      task_id: e.task_id ?? null,
      status: e.status,
      detail: 'error' in e ? e.error : null,
    })),
  };
}

/** A batch leaderboard page (by agent, or by episode): self-contained, no script, every string escaped (layers/reports). */
export function renderBatchLeaderboardHtml(report: BatchReport, groupBy: LeaderboardGrouping = 'agent'): string {
  return renderLeaderboardHtml(leaderboardInputOf(report, groupBy));
}
