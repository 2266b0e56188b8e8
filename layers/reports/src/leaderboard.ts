import { agentLabelKey, getTask, listTasks, type EpisodeRecord } from '../../core/src';
import type { EpisodeUsage } from '../../episodes/src';
import { agentStandings, entryAgentKey, type AgentStanding, type LeaderboardGrouping } from './leaderboard-agents';
import { baselineNote, type LeaderboardBaseline } from './leaderboard-baselines';
import type { PlayTarget } from './play-command';
import { formatNumber, formatPercent, formatSeconds, formatSigned as signed, formatTime, formatUsd, html, renderPage, slug, tableRegion, type SafeHtml } from './html';

/**
 * The leaderboard: per task, agents ranked by mean score (or, grouped by episode, episodes
 * ranked by score), with the score distribution and the baseline agent's score for
 * reference. One self-contained HTML file without JavaScript (the histogram is inline SVG),
 * in the same style as the episode report. Used by the batch run's report
 * (functions/batch/write-report.ts) and by the local dashboard.
 */

export type { LeaderboardBaseline } from './leaderboard-baselines';

/** What renderLeaderboardHtml takes (plain JSON: the batch can store it next to the HTML). */
export interface LeaderboardInput {
  /** Page title; default "Leaderboard". */
  title?: string;
  /** One line under the title (e.g. "Batch run of 2024-05-01"). */
  subtitle?: string;
  /** When the data was collected (ISO 8601), shown in the footer; the renderer reads no clock. */
  generated_at?: string | null;
  /** Plain-text lines under the subtitle (e.g. a batch run's counts and how costs are estimated). */
  notes?: string[];
  /** In the order to show them; see buildLeaderboardInput to group episodes by task. */
  tasks: LeaderboardTaskInput[];
  /** Episodes that could not be ranked (not ended, not found, failed to grade), listed after the tasks; omitted or empty: no such section. */
  unranked?: LeaderboardUnrankedEntry[];
  /** How many episodes could not be ranked, when `unranked` lists only the first of them (the page says so); omitted: as many as listed. */
  unranked_total?: number | null;
  /** Rows per agent (default; each task's episodes folded below) or per episode. */
  group_by?: LeaderboardGrouping;
  /** Where each grouping is shown (a page that can switch); omitted: no switch (a file). */
  grouping_hrefs?: Record<LeaderboardGrouping, string> | null;
  /** The server whose episodes are ranked (the dashboard's): the baseline's note says how to play it there; omitted: in-process. */
  play_target?: PlayTarget | null;
}

export interface LeaderboardUnrankedEntry {
  episode_id: string;
  agent?: string | null;
  tenant?: string | null;
  task_id?: string | null;
  /** Why it is not ranked, e.g. not_ended, not_found, error. */
  status: string;
  /** More about it (an error message). */
  detail?: string | null;
}

export interface LeaderboardTaskInput {
  task_id: string;
  /** Display name; default: the task's name when task_id is a known task. */
  name?: string;
  /** The baseline agent's result on this task, drawn on the histogram and compared in the table; null: none. */
  baseline?: LeaderboardBaseline | null;
  /** In any order: the renderer ranks them. With a summary, the best of the task's episodes (all of them, or the top ones). */
  entries: LeaderboardEntry[];
  /** The figures over all the task's episodes, computed elsewhere; omitted: computed from `entries`. */
  summary?: LeaderboardTaskSummary | null;
}

/**
 * A task's figures over all its episodes, for a task whose `entries` are only its best ones
 * (a batch run of 100,000 episodes shows its top 100): the page shows these figures and says
 * "top K of N" where stats.episodes is more than the entries it lists.
 */
export interface LeaderboardTaskSummary {
  stats: TaskStats;
  histogram: ScoreHistogram;
  /** Every agent of the task, ranked (agentStandings, or the same figures tallied as the episodes came: AgentTally). */
  agents: AgentStanding[];
}

export interface LeaderboardEntry {
  episode_id: string;
  /** Who played it: the agent key (agentLabelKey); null/omitted: grouped as "unlabelled". */
  agent?: string | null;
  /** Whose episode it is, where several tenants are ranked together (the batch report). */
  tenant?: string | null;
  /** active | submitted | auto_submitted. */
  status?: string | null;
  /** The grade's score; null: not graded (listed after the ranked ones). */
  score: number | null;
  /** Best validation accuracy. */
  val_accuracy: number | null;
  /** Epochs of the budget spent (over all models). */
  epochs_used: number | null;
  /** Default: the task's budget when task_id is known. */
  epoch_budget?: number | null;
  steps?: number | null;
  training_seconds?: number | null;
  /** Estimated cost in US dollars; null/omitted: not shown. */
  cost_usd?: number | null;
  /** When it ended (ISO 8601). */
  ended_at?: string | null;
  /** Link to the episode's report: a relative path or an http(s) URL (others are not linked). */
  report_href?: string | null;
}

export interface RankedEntry extends LeaderboardEntry {
  /** 1-based; equal score and accuracy share a rank; null for ungraded entries. */
  rank: number | null;
}

export interface ScoreHistogram {
  /** Bins of width 0.1 from 0 to 1 (the last one includes 1). */
  bins: { from: number; to: number; count: number }[];
  graded: number;
}

export interface TaskStats {
  episodes: number;
  graded: number;
  best: number | null;
  median: number | null;
  mean: number | null;
  /** Graded episodes scoring above the baseline; null without a baseline. */
  above_baseline: number | null;
}

/** Score (desc), then accuracy (desc), then fewer epochs, then episode id; ungraded last. */
export function rankEntries(entries: readonly LeaderboardEntry[]): RankedEntry[] {
  const num = (v: number | null | undefined, missing: number) => (v === null || v === undefined || !Number.isFinite(v) ? missing : v);
  const sorted = [...entries].sort((a, b) => {
    const graded = Number(a.score === null) - Number(b.score === null);
    if (graded !== 0) return graded;
    return (
      num(b.score, -1) - num(a.score, -1) ||
      num(b.val_accuracy, -1) - num(a.val_accuracy, -1) ||
      num(a.epochs_used, Infinity) - num(b.epochs_used, Infinity) ||
      (a.episode_id < b.episode_id ? -1 : a.episode_id > b.episode_id ? 1 : 0)
    );
  });
  const ranked: RankedEntry[] = [];
  sorted.forEach((entry, i) => {
    if (entry.score === null) {
      ranked.push({ ...entry, rank: null });
      return;
    }
    const previous = ranked[i - 1];
    const tie = previous !== undefined && previous.score === entry.score && (previous.val_accuracy ?? null) === (entry.val_accuracy ?? null);
    ranked.push({ ...entry, rank: tie ? previous.rank : i + 1 });
  });
  return ranked;
}

export function scoreHistogram(entries: readonly LeaderboardEntry[], binCount = 10): ScoreHistogram {
  const histogram = emptyScoreHistogram(binCount);
  for (const e of entries) addToScoreHistogram(histogram, e.score);
  return histogram;
}

export function emptyScoreHistogram(binCount = 10): ScoreHistogram {
  return { bins: Array.from({ length: binCount }, (_, i) => ({ from: i / binCount, to: (i + 1) / binCount, count: 0 })), graded: 0 };
}

/** Counts one score into the histogram (in place); a missing or non-finite score is not counted. */
export function addToScoreHistogram(histogram: ScoreHistogram, score: number | null): void {
  if (score === null || !Number.isFinite(score)) return;
  const binCount = histogram.bins.length;
  histogram.graded += 1;
  histogram.bins[Math.min(binCount - 1, Math.max(0, Math.floor(score * binCount)))]!.count += 1;
}

export function taskStats(entries: readonly LeaderboardEntry[], baseline: LeaderboardBaseline | null | undefined): TaskStats {
  const scores = entries
    .map((e) => e.score)
    .filter((s): s is number => s !== null && Number.isFinite(s))
    .sort((a, b) => a - b);
  const n = scores.length;
  const median = n === 0 ? null : n % 2 === 1 ? scores[(n - 1) / 2]! : (scores[n / 2 - 1]! + scores[n / 2]!) / 2;
  return {
    episodes: entries.length,
    graded: n,
    best: n === 0 ? null : scores[n - 1]!,
    median,
    mean: n === 0 ? null : scores.reduce((a, b) => a + b, 0) / n,
    above_baseline: baseline ? scores.filter((s) => s > baseline.score).length : null,
  };
}

/** What an episode contributes to the leaderboard, from its record (and what the store knows); the agent is the record's label key unless given. */
export function leaderboardEntryFromRecord(input: {
  episode_id: string;
  record: EpisodeRecord;
  usage?: EpisodeUsage | null;
  agent?: string | null;
  ended_at?: string | null;
  cost_usd?: number | null;
  report_href?: string | null;
}): LeaderboardEntry {
  const { record } = input;
  return {
    episode_id: input.episode_id,
    agent: input.agent ?? agentLabelKey(record.agent),
    status: record.status,
    score: record.grade?.score ?? null,
    val_accuracy: record.model.best_val_accuracy,
    epochs_used: record.budget_used,
    epoch_budget: getTask(record.task_id).max_epochs,
    steps: record.step_count,
    training_seconds: input.usage?.training_seconds ?? null,
    cost_usd: input.cost_usd ?? null,
    ended_at: input.ended_at ?? null,
    report_href: input.report_href ?? null,
  };
}

/**
 * Groups entries by task (the known tasks first, in their order, then any other), with the
 * baselines by task id.
 */
export function buildLeaderboardInput(
  entries: readonly (LeaderboardEntry & { task_id: string })[],
  options: Omit<LeaderboardInput, 'tasks'> & { baselines?: Record<string, LeaderboardBaseline | null | undefined>; includeEmptyTasks?: boolean } = {},
): LeaderboardInput {
  const { baselines = {}, includeEmptyTasks = false, ...rest } = options;
  const known = listTasks().map((t) => t.task_id as string);
  const ids = [...new Set([...known, ...entries.map((e) => e.task_id)])];
  const tasks: LeaderboardTaskInput[] = [];
  for (const taskId of ids) {
    const mine = entries.filter((e) => e.task_id === taskId).map(({ task_id: _task, ...entry }) => entry);
    if (mine.length === 0 && !includeEmptyTasks && !baselines[taskId]) continue;
    tasks.push({ task_id: taskId, baseline: baselines[taskId] ?? null, entries: mine });
  }
  return { ...rest, tasks };
}

function taskName(taskId: string): string | null {
  try {
    return getTask(taskId).name;
  } catch {
    return null;
  }
}

function taskBudget(taskId: string): number | null {
  try {
    return getTask(taskId).max_epochs;
  } catch {
    return null;
  }
}

/** Only relative references and http(s) URLs become links (never javascript: or data:). */
export function safeHref(href: string | null | undefined): string | null {
  if (!href) return null;
  const trimmed = href.trim();
  if (/^https?:\/\//i.test(trimmed)) return trimmed;
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) || trimmed.startsWith('//')) return null;
  return trimmed;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The histogram's geometry: bar counts sit above their bars inside the plot, tick labels in a
 * row under the axis, and the axis title in a row of its own below them, so no two labels can
 * meet whatever the counts are (a count over the last bar once ran into a title at the top right).
 */
const HIST = { width: 320, height: 148, left: 26, right: 8, top: 16, plotBottom: 106, tickRow: 122, titleRow: 142 } as const;

/** The histogram as inline SVG (no script): bars per score bin and the baseline's score as a dashed line. */
function histogramSvg(id: string, histogram: ScoreHistogram, baseline: LeaderboardBaseline | null | undefined): SafeHtml {
  const { width, height, left, right, top, plotBottom, tickRow, titleRow } = HIST;
  const plotW = width - left - right;
  const plotH = plotBottom - top;
  const max = Math.max(1, ...histogram.bins.map((b) => b.count));
  const barW = plotW / histogram.bins.length;
  const bars = histogram.bins.map((b, i) => {
    const h = (b.count / max) * plotH;
    const x = left + i * barW;
    return html`<rect class="bar" x="${(x + 1).toFixed(1)}" y="${(plotBottom - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}"></rect>${
      b.count > 0 ? html`<text class="count" x="${(x + barW / 2).toFixed(1)}" y="${(plotBottom - h - 3).toFixed(1)}" text-anchor="middle">${b.count}</text>` : ''
    }`;
  });
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1].map(
    (t) => html`<text class="tick" x="${(left + t * plotW).toFixed(1)}" y="${tickRow}" text-anchor="middle">${String(t)}</text>`,
  );
  const baselineLine =
    baseline && Number.isFinite(baseline.score)
      ? html`<line class="baseline-line" x1="${(left + baseline.score * plotW).toFixed(1)}" x2="${(left + baseline.score * plotW).toFixed(1)}" y1="${top - 6}" y2="${plotBottom}"></line>`
      : '';
  const description = `Score distribution of ${histogram.graded} graded episode${histogram.graded === 1 ? '' : 's'} in bins of 0.1: ${histogram.bins
    .map((b) => `${b.from.toFixed(1)}–${b.to.toFixed(1)}: ${b.count}`)
    .join(', ')}${baseline ? `. Baseline score ${formatNumber(baseline.score)} (dashed line).` : '.'}`;
  return html`<svg class="hist" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title"><title id="${id}-title">${description}</title>
<line class="axis" x1="${left}" x2="${left + plotW}" y1="${plotBottom}" y2="${plotBottom}"></line>${bars}${ticks}${baselineLine}
<text class="axis-title" x="${left + plotW / 2}" y="${titleRow}" text-anchor="middle">score (the number over a bar: episodes)</text></svg>`;
}

/** Where the entries are only the task's best ones, "the top K of N episodes"; null where they are all of them. */
function topOfAll(task: LeaderboardTaskInput): string | null {
  const total = task.summary?.stats.episodes ?? 0;
  return task.entries.length < total ? `the top ${task.entries.length} of ${total} episodes` : null;
}

/** The task's episodes ranked by score (the table's id: `<id>-table`). */
function episodeTable(task: LeaderboardTaskInput, id: string, name: string): SafeHtml {
  const ranked = rankEntries(task.entries);
  const baseline = task.baseline ?? null;
  const budget = taskBudget(task.task_id);
  const has = (pick: (e: LeaderboardEntry) => unknown) => task.entries.some((e) => pick(e) !== null && pick(e) !== undefined);
  interface Column {
    header: string;
    numeric: boolean;
    cell: (e: RankedEntry) => SafeHtml;
  }
  const columns: Column[] = [
    {
      header: 'Episode',
      numeric: false,
      cell: (e) => {
        const href = safeHref(e.report_href);
        return href ? html`<a href="${href}"><code>${e.episode_id}</code></a>` : html`<code>${e.episode_id}</code>`;
      },
    },
    ...(has((e) => e.agent) ? [{ header: 'Agent', numeric: false, cell: (e: RankedEntry) => html`${e.agent ?? '—'}` }] : []),
    ...(has((e) => e.tenant) ? [{ header: 'Tenant', numeric: false, cell: (e: RankedEntry) => html`${e.tenant ? html`<code>${e.tenant}</code>` : '—'}` }] : []),
    { header: 'Score', numeric: true, cell: (e) => html`<strong>${formatNumber(e.score)}</strong>` },
    ...(baseline
      ? [{ header: `vs ${baseline.label ?? 'baseline'}`, numeric: true, cell: (e: RankedEntry) => html`${e.score === null ? '—' : signed(e.score - baseline.score)}` }]
      : []),
    { header: 'Best val acc.', numeric: true, cell: (e) => html`${formatPercent(e.val_accuracy, 2)}` },
    {
      header: 'Epochs used',
      numeric: true,
      cell: (e) => {
        const epochBudget = e.epoch_budget ?? budget;
        return html`${e.epochs_used === null ? '—' : String(e.epochs_used)}${epochBudget ? html` <small class="muted">/ ${epochBudget}</small>` : ''}`;
      },
    },
    ...(has((e) => e.steps) ? [{ header: 'Steps', numeric: true, cell: (e: RankedEntry) => html`${e.steps === null || e.steps === undefined ? '—' : String(e.steps)}` }] : []),
    ...(has((e) => e.training_seconds) ? [{ header: 'Training time', numeric: true, cell: (e: RankedEntry) => html`${formatSeconds(e.training_seconds)}` }] : []),
    ...(has((e) => e.cost_usd) ? [{ header: 'Cost', numeric: true, cell: (e: RankedEntry) => html`${formatUsd(e.cost_usd)}` }] : []),
    ...(has((e) => e.status) || has((e) => e.ended_at)
      ? [{ header: 'Status', numeric: false, cell: (e: RankedEntry) => html`${e.status ?? '—'}${e.ended_at ? html`<br><small class="muted">${formatTime(e.ended_at)}</small>` : ''}` }]
      : []),
  ];
  const rows = ranked.map(
    (e) => html`<tr><th scope="row" class="num">${e.rank === null ? '—' : String(e.rank)}</th>${columns.map((c) => html`<td${c.numeric ? html` class="num"` : ''}>${c.cell(e)}</td>`)}</tr>`,
  );
  const table = html`<table>
<caption id="${id}-table-caption">${name}: ${topOfAll(task) ?? 'episodes'} ranked by score${baseline ? `, compared with the ${baseline.label ?? 'baseline'} (${formatNumber(baseline.score)})` : ''}</caption>
<thead><tr><th scope="col" class="num">Rank</th>${columns.map((c) => html`<th scope="col"${c.numeric ? html` class="num"` : ''}>${c.header}</th>`)}</tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="${columns.length + 1}">No episode.</td></tr>`}</tbody>
</table>`;
  return tableRegion(`${id}-table`, `${name} ranking`, table);
}

function episodeLink(episode: AgentStanding['best_episode']): SafeHtml {
  if (episode === null) return html`—`;
  const href = safeHref(episode.report_href);
  return href ? html`<a href="${href}"><code>${episode.episode_id}</code></a>` : html`<code>${episode.episode_id}</code>`;
}

/** The task's agents ranked by mean score (the table's id: `<id>-agents`). */
function agentTable(task: LeaderboardTaskInput, id: string, name: string): SafeHtml {
  const baseline = task.baseline ?? null;
  const rows = (task.summary?.agents ?? agentStandings(task.entries)).map(
    (a) => html`<tr><th scope="row" class="num">${a.rank === null ? '—' : String(a.rank)}</th><td>${a.agent}</td><td class="num">${a.episodes}${a.graded < a.episodes ? html` <small class="muted">(${a.graded} graded)</small>` : ''}</td>
<td class="num"><strong>${formatNumber(a.mean)}</strong></td>${baseline ? html`<td class="num">${a.mean === null ? '—' : signed(a.mean - baseline.score)}</td>` : ''}<td class="num">${formatNumber(a.best)}</td><td>${episodeLink(a.best_episode)}</td></tr>`,
  );
  const table = html`<table>
<caption id="${id}-agents-caption">${name}: agents ranked by mean score${baseline ? `, compared with the ${baseline.label ?? 'baseline'} (${formatNumber(baseline.score)})` : ''}</caption>
<thead><tr><th scope="col" class="num">Rank</th><th scope="col">Agent</th><th scope="col" class="num">Episodes</th><th scope="col" class="num">Mean score</th>${baseline ? html`<th scope="col" class="num">Mean vs ${baseline.label ?? 'baseline'}</th>` : ''}<th scope="col" class="num">Best score</th><th scope="col">Best episode</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="${baseline ? 7 : 6}">No episode.</td></tr>`}</tbody>
</table>`;
  return tableRegion(`${id}-agents`, `${name} agents`, table);
}

function taskSection(task: LeaderboardTaskInput, groupBy: LeaderboardGrouping, target: PlayTarget | null): SafeHtml {
  const name = task.name ?? taskName(task.task_id) ?? task.task_id;
  const id = `task-${slug(task.task_id)}`;
  const stats = task.summary?.stats ?? taskStats(task.entries, task.baseline);
  const histogram = task.summary?.histogram ?? scoreHistogram(task.entries);
  const baseline = task.baseline ?? null;
  const agents = task.summary?.agents.length ?? new Set(task.entries.map(entryAgentKey)).size;
  const top = topOfAll(task);
  const ranking =
    groupBy === 'agent'
      ? html`${agentTable(task, id, name)}
<details id="${id}-episodes"><summary>${top === null ? `Every episode ranked by score (${task.entries.length})` : `${capitalized(top)} ranked by score`}</summary>${episodeTable(task, id, name)}</details>`
      : episodeTable(task, id, name);
  return html`<section aria-labelledby="${id}-heading">
<h2 id="${id}-heading">${name} <small class="muted"><code>${task.task_id}</code></small></h2>
<div class="grid2">
<div>
<dl class="stats">
  <div><dt>Episodes</dt><dd>${stats.episodes} <small>${stats.graded} graded</small></dd></div>
  <div><dt>Agents</dt><dd>${agents}</dd></div>
  <div><dt>Best score</dt><dd>${formatNumber(stats.best)}</dd></div>
  <div><dt>Median score</dt><dd>${formatNumber(stats.median)}</dd></div>
  <div><dt>${baseline ? `${capitalized(baseline.label ?? 'baseline')} score` : 'Baseline'}</dt><dd>${baseline ? formatNumber(baseline.score) : html`<small>none for this task</small>`}${baseline?.val_accuracy !== undefined && baseline?.val_accuracy !== null ? html` <small>acc. ${formatPercent(baseline.val_accuracy, 2)}</small>` : ''}</dd></div>
  ${stats.above_baseline !== null ? html`<div><dt>Above baseline</dt><dd>${stats.above_baseline} <small>of ${stats.graded}</small></dd></div>` : ''}
</dl>
${baselineNote(task.task_id, baseline, target)}
</div>
<figure><figcaption>Score distribution${baseline ? html`<span class="key"><span><svg width="26" height="10" aria-hidden="true" focusable="false"><line x1="1" y1="5" x2="25" y2="5" class="k-baseline" stroke-dasharray="5 3" stroke-width="2.5"/></svg>${baseline.label ?? 'baseline'}</span></span>` : ''}</figcaption>${histogramSvg(id, histogram, baseline)}</figure>
</div>
${ranking}
</section>`;
}

function unrankedSection(entries: readonly LeaderboardUnrankedEntry[], total: number): SafeHtml {
  const id = 'unranked';
  const cut = entries.length < total ? ` (the first ${entries.length} of ${total})` : '';
  const hasAgent = entries.some((e) => e.agent);
  const hasTenant = entries.some((e) => e.tenant);
  const table = html`<table>
<caption id="${id}-table-caption">Episodes not ranked: not ended, not found, or their grading failed${cut}</caption>
<thead><tr><th scope="col">Episode</th>${hasAgent ? html`<th scope="col">Agent</th>` : ''}${hasTenant ? html`<th scope="col">Tenant</th>` : ''}<th scope="col">Task</th><th scope="col">Status</th><th scope="col">Detail</th></tr></thead>
<tbody>${entries.map(
    (e) =>
      html`<tr><td><code>${e.episode_id}</code></td>${hasAgent ? html`<td>${e.agent ?? '—'}</td>` : ''}${hasTenant ? html`<td>${e.tenant ? html`<code>${e.tenant}</code>` : '—'}</td>` : ''}<td>${e.task_id ? html`<code>${e.task_id}</code>` : '—'}</td><td>${e.status}</td><td>${e.detail ?? ''}</td></tr>`,
  )}</tbody>
</table>`;
  return html`<section aria-labelledby="${id}-heading">
<h2 id="${id}-heading">Not ranked <small class="muted">${total}</small></h2>
${tableRegion(`${id}-table`, 'Episodes not ranked', table)}
</section>`;
}

/** The leaderboard's content (without the page around it). */
export function renderLeaderboardBody(input: LeaderboardInput): SafeHtml {
  const title = input.title ?? 'Leaderboard';
  const unranked = input.unranked ?? [];
  const groupBy = input.group_by ?? 'agent';
  const links = [
    ...input.tasks.map((t) => ({ href: `#task-${slug(t.task_id)}-heading`, label: t.name ?? taskName(t.task_id) ?? t.task_id })),
    ...(unranked.length > 0 ? [{ href: '#unranked-heading', label: 'Not ranked' }] : []),
  ];
  return html`<header><h1>${title}</h1>${input.subtitle ? html`<p class="subtitle">${input.subtitle}</p>` : ''}${(input.notes ?? []).map((n) => html`<p class="muted">${n}</p>`)}</header>
${links.length > 1 ? html`<nav aria-label="Tasks"><p>Tasks: ${links.map((l, i) => html`${i > 0 ? ' · ' : ''}<a href="${l.href}">${l.label}</a>`)}</p></nav>` : ''}
${groupingChoice(groupBy, input.grouping_hrefs)}
${input.tasks.length === 0 ? html`<p>No episode yet.</p>` : input.tasks.map((t) => taskSection(t, groupBy, input.play_target ?? null))}
${unranked.length > 0 ? unrankedSection(unranked, Math.max(unranked.length, input.unranked_total ?? 0)) : ''}
<footer>${input.generated_at ? `Generated ${formatTime(input.generated_at)}. ` : ''}Scores are the deterministic grader's (0.0001 to 0.9999); ties in score and accuracy share a rank${groupBy === 'agent' ? '; agents are ranked by their mean score, episodes without an agent label are grouped as unlabelled' : ''}.</footer>`;
}

/** Links to the other grouping, where the page can switch; the current one is marked. */
function groupingChoice(current: LeaderboardGrouping, hrefs: LeaderboardInput['grouping_hrefs']): SafeHtml | '' {
  if (!hrefs) return '';
  const choice = (grouping: LeaderboardGrouping, label: string) =>
    html`<a href="${hrefs[grouping]}"${grouping === current ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav aria-label="Grouping" id="leaderboard-grouping"><p>Group: ${choice('agent', 'by agent')} · ${choice('episode', 'by episode')}</p></nav>`;
}

/** A complete self-contained HTML page (no script, no external request). */
export function renderLeaderboardHtml(input: LeaderboardInput, options: { nav?: SafeHtml } = {}): string {
  return renderPage({ title: input.title ?? 'Leaderboard', body: renderLeaderboardBody(input), nav: options.nav, connect: "'none'" });
}
