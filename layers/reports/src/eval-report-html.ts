import { agentLabelKey, findTaskModule } from '../../core/src';
import { agentLine } from './agent-html';
import { curvesSvg, EVAL_CHART_CSS, scoreStripSvg } from './eval-report-charts';
import type { EvalComparison, EvalEpisodeData, EvalReportData, EvalTaskData, EvalTotals, Interval } from './eval-report-data';
import { formatNumber, formatPercent, formatSeconds, formatSigned, formatTime, formatUsd, html, jsonForScript, raw, renderPage, slug, tableRegion, type SafeHtml } from './html';
import { safeHref } from './leaderboard';

/**
 * The eval report: one agent over many episodes, as one self-contained HTML document without
 * script (the charts are inline SVG drawn here), so it opens offline from disk with a CSP
 * that allows no script at all. Per task: the summary with its interval, the comparison rows,
 * the score distribution, every episode's curve and a table linking each episode's report.
 * The data it was drawn from is embedded as JSON for machines.
 */
export function renderEvalReportHtml(data: EvalReportData): string {
  const agent = agentLabelKey(data.agent);
  const body = html`
<header>
  <h1>${data.title}</h1>
  ${agentLine(data.agent, 'eval-agent')}
  <p class="subtitle">ran ${data.environment} · generated ${formatTime(data.generated_at)}</p>
  <p class="command">Command: <code>${data.command}</code></p>
</header>
${totalsSection(data.totals, data.tasks.length)}
${data.tasks.length > 1 ? html`<nav aria-label="Tasks"><p>Tasks: ${data.tasks.map((t, i) => html`${i > 0 ? ' · ' : ''}<a href="#${taskAnchor(t)}-heading">${taskName(t)}</a>`)}</p></nav>` : ''}
${data.tasks.length === 0 ? html`<p>No task was evaluated.</p>` : data.tasks.map((t) => taskSection(t, agent, data.confidence))}
<script type="application/json" id="eval-data">${raw(jsonForScript(data))}</script>
<footer>ml-trainer-env eval report. Scores are the deterministic grader's (0.0001 to 0.9999); intervals: ${confidenceText(data.confidence)}.</footer>`;
  return renderPage({ title: data.title, body, extraCss: EVAL_CSS, connect: "'none'" });
}

function taskName(task: EvalTaskData): string {
  return findTaskModule(task.task_id)?.definition.name ?? task.task_id;
}

function taskAnchor(task: EvalTaskData): string {
  return `task-${slug(task.task_id)}`;
}

function confidenceText(c: EvalReportData['confidence']): string {
  return `${formatPercent(c.level, 0)} percentile bootstrap of the mean (${c.resamples} resamples, seed ${c.seed}); a difference is paired over the seeds both policies played`;
}

function totalsSection(t: EvalTotals, tasks: number): SafeHtml {
  const optional = (label: string, value: string | null, note?: string) =>
    value === null ? '' : html`<div><dt>${label}</dt><dd>${value}${note ? html` <small>${note}</small>` : ''}</dd></div>`;
  const perEpisode = (cost: number | null) => (cost !== null && t.episodes > 0 ? `${formatUsd(cost / t.episodes)} per episode` : undefined);
  return html`<h2 class="sr-only">Totals</h2>
<dl class="stats" id="totals">
  <div><dt>Episodes</dt><dd>${t.episodes} <small>${tasks} task${tasks === 1 ? '' : 's'}</small></dd></div>
  <div><dt>Wall time</dt><dd>${formatSeconds(t.wall_seconds)}</dd></div>
  <div><dt>Episodes per hour</dt><dd>${formatNumber(t.episodes_per_hour, 1)}</dd></div>
  ${optional('Cost', t.cost_usd === null ? null : formatUsd(t.cost_usd), perEpisode(t.cost_usd))}
  ${optional('Model cost (estimate)', t.model_cost_usd === null ? null : formatUsd(t.model_cost_usd), perEpisode(t.model_cost_usd))}
  ${optional('Prompt tokens', t.prompt_tokens === null ? null : String(t.prompt_tokens))}
  ${optional('Completion tokens', t.completion_tokens === null ? null : String(t.completion_tokens))}
</dl>`;
}

function intervalCell(i: Interval, format: (v: number) => string = formatNumber): SafeHtml {
  if (!Number.isFinite(i.mean)) return html`—`;
  return html`${format(i.mean)} <small class="muted">[${format(i.low)}, ${format(i.high)}]</small>`;
}

/** Above / below / includes 0: told in words as well as by colour. */
function differenceCell(d: Interval): SafeHtml {
  if (!Number.isFinite(d.mean) || !Number.isFinite(d.low) || !Number.isFinite(d.high)) return html`<span class="diff unknown">—</span>`;
  const verdict = d.low > 0 ? { cls: 'above', text: 'higher' } : d.high < 0 ? { cls: 'below', text: 'lower' } : { cls: 'includes-zero', text: 'no clear difference' };
  return html`<span class="diff ${verdict.cls}">${intervalCell(d, formatSigned)} <small class="verdict">${verdict.text}</small></span>`;
}

function summaryTable(task: EvalTaskData, agent: string, id: string): SafeHtml {
  const s = task.summary;
  const hasModelCost = s.mean_model_cost_usd !== null;
  const dash = (n: number) => Array.from({ length: n }, () => html`<td class="num">—</td>`);
  const extra = hasModelCost ? 6 : 5;
  const comparisonRow = (c: EvalComparison) =>
    html`<tr class="comparison"><th scope="row">${c.policy}</th><td class="num">${c.episodes}</td><td class="num">${intervalCell(c.score)}</td><td class="num">${differenceCell(c.difference)}</td>${dash(extra)}</tr>`;
  const table = html`<table>
<caption id="${id}-caption">${taskName(task)}: mean score with its interval, and the difference to each reference on the same seeds</caption>
<thead><tr><th scope="col">Policy</th><th scope="col" class="num">Episodes</th><th scope="col" class="num">Mean score [CI]</th><th scope="col" class="num">This agent − reference [CI]</th><th scope="col" class="num">Median</th><th scope="col" class="num">Min – max</th><th scope="col" class="num">Epochs used</th><th scope="col" class="num">Steps</th><th scope="col" class="num">Training time</th><th scope="col" class="num">Cost</th>${hasModelCost ? html`<th scope="col" class="num">Model cost</th>` : ''}</tr></thead>
<tbody><tr class="agent"><th scope="row"><code>${agent}</code></th><td class="num">${s.episodes}</td><td class="num">${intervalCell(s.score)}</td><td class="num">—</td><td class="num">${formatNumber(s.median)}</td><td class="num">${formatNumber(s.min)} – ${formatNumber(s.max)}</td>
<td class="num">${formatNumber(s.mean_epochs_used, 1)} <small class="muted">/ ${task.max_epochs}</small></td><td class="num">${formatNumber(s.mean_steps, 1)}</td><td class="num">${formatSeconds(s.mean_training_seconds)}</td><td class="num">${formatUsd(s.mean_cost_usd)}</td>${hasModelCost ? html`<td class="num">${formatUsd(s.mean_model_cost_usd)}</td>` : ''}</tr>
${task.comparisons.map(comparisonRow)}</tbody>
</table>`;
  return tableRegion(id, `${taskName(task)} summary`, table);
}

function episodeRow(e: EvalEpisodeData): SafeHtml {
  const href = safeHref(e.report_href);
  const id = html`<code>${e.episode_id}</code>`;
  const best = e.val_accuracy.filter(Number.isFinite);
  const failed = e.score === null || e.error !== undefined;
  return html`<tr${failed ? raw(' class="failed"') : ''}><th scope="row" class="num">${e.seed}</th><td>${href ? html`<a href="${href}">${id}</a>` : id}</td><td>${failed ? html`<span class="badge bad">${e.status}</span>` : e.status}</td>
<td class="num">${formatNumber(e.score)}</td><td class="num">${best.length > 0 ? formatPercent(Math.max(...best), 2) : '—'}</td><td class="num">${e.epochs_used}</td><td class="num">${e.steps}</td><td class="error-text">${e.error ?? ''}</td></tr>`;
}

function episodesTable(task: EvalTaskData, id: string): SafeHtml {
  const table = html`<table>
<caption id="${id}-caption">${taskName(task)}: every episode (${task.episodes.length}), with a link to its report where there is one</caption>
<thead><tr><th scope="col" class="num">Seed</th><th scope="col">Episode</th><th scope="col">Status</th><th scope="col" class="num">Score</th><th scope="col" class="num">Best val acc.</th><th scope="col" class="num">Epochs used</th><th scope="col" class="num">Steps</th><th scope="col">Error</th></tr></thead>
<tbody>${task.episodes.length > 0 ? task.episodes.map(episodeRow) : html`<tr><td colspan="8">No episode.</td></tr>`}</tbody>
</table>`;
  return tableRegion(id, `${taskName(task)} episodes`, table);
}

function failureNotice(task: EvalTaskData): SafeHtml | '' {
  const failed = task.episodes.filter((e) => e.score === null || e.error !== undefined).length;
  if (failed === 0) return '';
  return html`<p class="notice bad" role="note">${failed} of ${task.episodes.length} episode${task.episodes.length === 1 ? '' : 's'} failed or ended without a grade; the summary counts only graded ones. Their errors are in the table of episodes.</p>`;
}

function taskSection(task: EvalTaskData, agent: string, confidence: EvalReportData['confidence']): SafeHtml {
  const id = taskAnchor(task);
  const target = findTaskModule(task.task_id)?.definition.target_value ?? null;
  const references = task.comparisons.map((c) => ({ label: c.policy, score: c.score }));
  const key = (cls: string, label: string) => html`<span><svg width="26" height="10" aria-hidden="true" focusable="false"><line x1="1" y1="5" x2="25" y2="5" class="${cls}" stroke-width="2.5"/></svg>${label}</span>`;
  return html`<section class="eval-task" aria-labelledby="${id}-heading" data-task="${task.task_id}">
<h2 id="${id}-heading">${taskName(task)} <small class="muted"><code>${task.task_id}</code></small></h2>
${failureNotice(task)}
${summaryTable(task, agent, `${id}-summary`)}
<p class="muted">Intervals: ${confidenceText(confidence)}. Green: the difference's interval lies above 0; red: below 0.</p>
<div class="charts">
  <figure class="wide svg-chart"><figcaption>Score distribution<span class="key">${key('k-train', 'this agent: episodes (dots), mean and interval')}${task.comparisons.length > 0 ? key('k-baseline', 'references: mean and interval') : ''}</span></figcaption>
  ${scoreStripSvg(`${id}-strip`, { label: agent, score: task.summary.score, episodes: task.episodes }, references)}</figure>
  <figure class="wide svg-chart"><figcaption>Validation accuracy per epoch, all episodes<span class="key">${key('k-train', 'one episode (hover: seed and score)')}${target !== null ? key('k-target', 'target') : ''}</span></figcaption>
  ${curvesSvg(`${id}-curves`, task.episodes, task.max_epochs, target)}</figure>
</div>
${episodesTable(task, `${id}-episodes`)}
</section>`;
}

const EVAL_CSS = `${EVAL_CHART_CSS}
.command code{overflow-wrap:anywhere}
.diff.above{color:var(--ok);font-weight:600}.diff.below{color:var(--bad);font-weight:600}.diff.includes-zero{color:var(--muted)}
.diff .verdict{display:block;font-weight:400}
tr.failed td.error-text{color:var(--bad)}
td.error-text{min-width:12rem;max-width:28rem;overflow-wrap:anywhere}
tr.agent th,tr.agent td{font-weight:600}
`;
