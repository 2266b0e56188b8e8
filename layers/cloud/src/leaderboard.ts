import {
  BASELINE_AGENT_LABEL,
  buildLeaderboardInput,
  formatTime,
  formatUsd,
  renderLeaderboardHtml,
  type LeaderboardEntry,
  type LeaderboardGrouping,
  type LeaderboardInput,
  type LeaderboardTaskInput,
} from '../../reports/src';
import { BatchReportBuilder, reportEntryAgentKey, type BatchReport, type BatchReportMeta, type RankedEntry, type ReportEntry } from './batch-report-builder';
import type { BaselineScores } from './config';

export type { BatchReport, RankedEntry, ReportEntry } from './batch-report-builder';

/**
 * The batch run's report: the JSON (BatchReport, built by BatchReportBuilder) and its HTML
 * leaderboard, which is the product's leaderboard (layers/reports: the same page as the
 * dashboard's, with the score distribution and the baseline agent's score per task) fed from
 * the JSON: each task's top entries with its figures over all its episodes. Episodes are
 * shown with who played them and summarised per agent (agentLabelKey; "unlabelled").
 */

/** The report of entries held in memory: BatchReportBuilder fed them one by one (a run that streams its entries uses the builder itself). */
export function buildReport(input: BatchReportMeta & { baselines?: BaselineScores; entries: readonly ReportEntry[] }): BatchReport {
  const { baselines, entries, ...meta } = input;
  const builder = new BatchReportBuilder({ baselines });
  for (const entry of entries) builder.add(entry);
  return builder.finish(meta);
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
  const baselines = Object.fromEntries(Object.entries(report.baselines).map(([task, score]) => [task, { score, label: BASELINE_AGENT_LABEL }]));
  const counts = Object.entries(report.counts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');
  const p = report.prices;
  const input = buildLeaderboardInput(entries, {
    title: 'ml-trainer-env leaderboard',
    subtitle:
      `Run ${report.run_id} · episodes ended from ${report.since ? formatTime(report.since) : '–'} to ${report.until ? formatTime(report.until) : '–'}` +
      (report.truncated ? ' (truncated: the next run continues)' : ''),
    generated_at: report.generated_at,
    baselines,
    group_by: groupBy,
    grouping_hrefs: BATCH_LEADERBOARD_FILES,
  });
  return {
    ...input,
    tasks: input.tasks.map((task) => withSummary(task, report)),
    notes: [
      counts,
      `Estimated cost: ${formatUsd(p.perEpisodeUsd)} per episode + training Lambda GB-seconds × ${plain(p.lambdaGbSecondUsd)} + requests × ${plain(p.lambdaRequestUsd)} (USD).`,
    ],
    unranked: report.unranked.map((e) => ({
      episode_id: e.episode_id,
      agent: reportEntryAgentKey(e),
      tenant: e.tenant,
      task_id: e.task_id ?? null,
      status: e.status,
      detail: 'error' in e ? e.error : null,
    })),
    unranked_total: report.unranked_total,
  };
}

/** The task with its figures over all its episodes, where the report has them (a task shown only for its baseline has none). */
function withSummary(task: LeaderboardTaskInput, report: BatchReport): LeaderboardTaskInput {
  const summary = report.tasks[task.task_id];
  if (summary === undefined) return task;
  return { ...task, summary: { stats: summary.stats, histogram: summary.histogram, agents: report.agents[task.task_id] ?? [] } };
}

/** A batch leaderboard page (by agent, or by episode): self-contained, no script, every string escaped (layers/reports). */
export function renderBatchLeaderboardHtml(report: BatchReport, groupBy: LeaderboardGrouping = 'agent'): string {
  return renderLeaderboardHtml(leaderboardInputOf(report, groupBy));
}
