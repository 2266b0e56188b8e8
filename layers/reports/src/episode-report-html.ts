import { CLIENT_SCRIPT, UPLOT_CSS } from '../generated/assets';
import { accuracyScore } from '../../core/src';
import { agentLine } from './agent-html';
import { argumentsHtml } from './arguments-html';
import type { EpisodeReport, TimelineEntry } from './episode-report';
import {
  formatLr,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatTime,
  html,
  jsonForScript,
  raw,
  renderPage,
  tableRegion,
  type SafeHtml,
} from './html';

/**
 * The episode report as one self-contained HTML document: inline CSS, the data as JSON, and
 * uPlot + the chart code inlined (bundled at build time, see build-assets.mjs). It makes no
 * request at all (its CSP says connect-src 'none'); every table and text is in the HTML, so
 * it reads without JavaScript too (the charts then are missing, their data is in a table).
 */
export interface EpisodeReportHtmlOptions {
  /** The dashboard's live episode page: where its events and its fresh data come from. */
  live?: { eventsUrl: string; apiUrl: string };
  /** A navigation bar (the dashboard's). */
  nav?: SafeHtml;
  /** Links under the title (downloads…). */
  links?: { label: string; href: string; download?: boolean }[];
}

export function renderEpisodeReportHtml(report: EpisodeReport, options: EpisodeReportHtmlOptions = {}): string {
  const title = `${report.task.name} — episode ${report.episode_id ?? '(saved record)'}`;
  const body = html`
<header>
  <h1>${report.task.name} <span class="muted">episode report</span></h1>
  <p class="subtitle">${subtitle(report)}</p>
  ${agentLine(report.agent, 'episode-agent')}
  ${options.links && options.links.length > 0 ? html`<p>${options.links.map((l, i) => html`${i > 0 ? ' · ' : ''}<a href="${l.href}"${l.download ? raw(' download') : ''}>${l.label}</a>`)}</p>` : ''}
</header>
<div id="episode-overview">${renderEpisodeOverview(report)}</div>
${chartsSection(report, options.live !== undefined)}
<div id="episode-details">${renderEpisodeDetails(report)}</div>
<script type="application/json" id="report-data">${raw(jsonForScript(report))}</script>
<footer>ml-trainer-env episode report (format ${report.report_version}). Charts: uPlot (MIT licence, © Leon Sorokin).</footer>`;
  return renderPage({
    title,
    body,
    nav: options.nav,
    scripts: [CLIENT_SCRIPT],
    extraCss: UPLOT_CSS,
    connect: options.live ? "'self'" : "'none'",
    bodyAttributes: options.live ? { 'data-live-events': options.live.eventsUrl, 'data-live-api': options.live.apiUrl } : {},
  });
}

function subtitle(report: EpisodeReport): SafeHtml {
  const parts: SafeHtml[] = [
    html`task <code>${report.task.task_id}</code> (${report.task.difficulty}, ${report.task.model_type} on ${report.task.dataset_name})`,
    html`seed ${report.seed}`,
  ];
  if (report.episode_id) parts.push(html`episode <code>${report.episode_id}</code>`);
  if (report.tenant) parts.push(html`tenant <code>${report.tenant}</code>`);
  if (report.created_at) parts.push(html`started ${formatTime(report.created_at)}`);
  if (report.updated_at) parts.push(html`updated ${formatTime(report.updated_at)}`);
  return html`${parts.map((p, i) => html`${i > 0 ? ' · ' : ''}${p}`)}`;
}

export function statusBadge(status: EpisodeReport['status'], diverged = false): SafeHtml {
  if (status === 'active') return diverged ? html`<span class="badge bad">running · diverged</span>` : html`<span class="badge live">running</span>`;
  const label = status === 'submitted' ? 'submitted' : 'auto-submitted';
  return diverged ? html`<span class="badge bad">${label} · diverged</span>` : html`<span class="badge ok">${label}</span>`;
}

/** The summary figures and notices (re-rendered live by the dashboard). */
export function renderEpisodeOverview(report: EpisodeReport): SafeHtml {
  const s = report.summary;
  const g = report.grade;
  return html`
<h2 class="sr-only">Summary</h2>
<dl class="stats">
  <div><dt>Status</dt><dd>${statusBadge(report.status, s.diverged)}</dd></div>
  <div><dt>${g.final ? 'Score' : 'Score if submitted now'}</dt><dd>${formatNumber(g.score)}</dd></div>
  <div><dt>Best val accuracy</dt><dd>${formatPercent(s.best_val_accuracy, 2)} ${s.best_epoch !== null ? html`<small>epoch ${s.best_epoch}</small>` : ''}</dd></div>
  ${targetCard(report.task)}
  <div><dt>Epochs used</dt><dd>${s.epochs_used} <small>of ${s.epoch_budget}</small></dd></div>
  <div><dt>Steps used</dt><dd>${s.steps_used} <small>of ${s.max_steps}</small></dd></div>
  <div><dt>Total reward</dt><dd>${formatNumber(s.total_reward)}</dd></div>
  <div><dt>Training time</dt><dd>${report.usage ? formatSeconds(report.usage.training_seconds) : '—'}</dd></div>
</dl>
${checkpointNotice(report)}
${report.curves.note ? html`<p class="notice" role="note">${report.curves.note}</p>` : ''}
${report.diverged ? html`<p class="notice bad" role="note">Training diverged in epoch ${report.diverged.epoch} (model epoch ${report.diverged.model_epoch}; training loss ${report.diverged.train_loss === null ? 'not finite' : formatNumber(report.diverged.train_loss, 2)}). That epoch is spent but not recorded, and this model trains no more.</p>` : ''}`;
}

/**
 * The task's target accuracy (the seed's target_value): a goal the task states, which no grade
 * or reward uses; the card says so and what the grade's accuracy score is at it.
 */
function targetCard(task: EpisodeReport['task']): SafeHtml {
  const range = { min_score_accuracy: task.score_0_at, max_score_accuracy: task.score_1_at };
  const atTarget = formatNumber(accuracyScore(task.target_value, range), 2);
  const explanation = `The validation accuracy this task names as its goal. The grade does not use it: its accuracy score runs from 0 at ${formatPercent(task.score_0_at, 1)} to 1 at ${formatPercent(task.score_1_at, 1)}, and is ${atTarget} at the target.`;
  return html`<div id="target-card" title="${explanation}"><dt>Target accuracy</dt><dd>${formatPercent(task.target_value, 1)} <small class="card-note">the task's stated goal, not graded (accuracy score ${atTarget} there)</small></dd></div>`;
}

function checkpointNotice(report: EpisodeReport): SafeHtml | '' {
  const failure = report.checkpoint_unavailable;
  if (failure === null) return '';
  return html`<p class="notice bad" role="alert" id="checkpoint-unavailable">Checkpoint unavailable (step ${failure.step}, <code>${failure.tool}</code>): ${failure.message}</p>`;
}

function lineKey(cls: string, label: string, dash = ''): SafeHtml {
  return html`<span><svg width="26" height="10" aria-hidden="true" focusable="false"><line x1="1" y1="5" x2="25" y2="5" class="${cls}"${dash ? html` stroke-dasharray="${dash}"` : ''} stroke-width="2.5"/></svg>${label}</span>`;
}

function chartsSection(report: EpisodeReport, live: boolean): SafeHtml {
  const range = report.epochs.length > 0 ? `epochs ${report.epochs[0]!.epoch} to ${report.epochs[report.epochs.length - 1]!.epoch}` : 'no epochs yet';
  const markers = lineKey('k-marker', 'configuration change', '2 3');
  return html`
<section aria-labelledby="charts-heading">
  <h2 id="charts-heading">Training curves <small class="muted">(model ${report.curves.generation})</small></h2>
  ${live ? html`<p class="live-status" id="live-status" role="status" aria-live="polite"></p>` : ''}
  <div class="charts">
    <figure>
      <figcaption id="loss-caption">Loss<span class="key">${lineKey('k-train', 'train')}${lineKey('k-val', 'validation', '6 3')}${markers}</span></figcaption>
      <div class="chart" data-chart="loss" role="img" aria-label="Line chart of training and validation loss, ${range}. The values are in the table Per-epoch metrics."></div>
    </figure>
    <figure>
      <figcaption id="accuracy-caption">Accuracy<span class="key">${lineKey('k-train', 'train')}${lineKey('k-val', 'validation', '6 3')}${lineKey('k-best', 'best epoch', '1 3')}${lineKey('k-target', 'target', '8 4')}</span></figcaption>
      <div class="chart" data-chart="accuracy" role="img" aria-label="Line chart of training and validation accuracy, ${range}, with the best epoch and the target marked. The values are in the table Per-epoch metrics."></div>
    </figure>
    <figure class="wide">
      <figcaption id="lr-caption">Learning rate<span class="key">${lineKey('k-lr', 'learning rate per epoch')}${markers}</span></figcaption>
      <div class="chart small" data-chart="lr" role="img" aria-label="Step chart of the learning rate each epoch trained with, ${range}. The values are in the table Per-epoch metrics."></div>
    </figure>
  </div>
  <noscript><p>The charts need JavaScript; their data is in the table Per-epoch metrics below.</p></noscript>
  <p class="muted">Epochs are numbered over the episode's budget. Dotted vertical lines mark configuration changes, placed before the first epoch they applied to.</p>
</section>`;
}

/** Grade, timeline, configuration, per-epoch data, usage (re-rendered live by the dashboard). */
export function renderEpisodeDetails(report: EpisodeReport): SafeHtml {
  return html`${gradeSection(report)}${timelineSection(report)}${epochTableSection(report)}${configSection(report)}${usageSection(report)}`;
}

function gradeSection(report: EpisodeReport): SafeHtml {
  const g = report.grade;
  const table = html`<table>
<caption id="grade-table-caption">Score breakdown: ${g.formula}</caption>
<thead><tr><th scope="col">Component</th><th scope="col" class="num">Value</th><th scope="col" class="num">Weight</th><th scope="col" class="num">Contribution</th></tr></thead>
<tbody>${g.components.map((c) => html`<tr><th scope="row">${c.label}</th><td class="num">${formatNumber(c.value)}</td><td class="num">${formatNumber(c.weight, 2)}</td><td class="num">${formatNumber(c.contribution)}</td></tr>`)}</tbody>
<tfoot><tr><th scope="row">Score${g.final ? '' : ' (if submitted now)'}</th><td class="num"></td><td class="num"></td><td class="num"><strong>${formatNumber(g.score)}</strong></td></tr></tfoot>
</table>`;
  return html`
<section aria-labelledby="grade-heading">
  <h2 id="grade-heading">${g.final ? 'Grade' : 'Provisional grade'}</h2>
  ${g.final ? '' : html`<p class="muted">The episode is still running: this is the grade it would get if it were submitted now.</p>`}
  <div class="grid2">
    <div>${tableRegion('grade-table', 'Score breakdown', table)}</div>
    <div>
      <h3 id="grade-inputs">Measured</h3>
      <dl class="stats" aria-labelledby="grade-inputs">${g.inputs.map((i) => html`<div><dt>${i.label}</dt><dd>${i.key === 'val_accuracy' ? formatPercent(i.value, 2) : formatNumber(i.value, 6)}</dd></div>`)}</dl>
      <p class="muted">Accuracy score is 0 at ${formatPercent(report.task.score_0_at, 1)} and 1 at ${formatPercent(report.task.score_1_at, 1)} validation accuracy (clamped to 0.0001…0.9999). The target accuracy (${formatPercent(report.task.target_value, 1)}) is the goal the task states; the grade does not use it.</p>
    </div>
  </div>
</section>`;
}

function epochsCell(entry: TimelineEntry): SafeHtml {
  if (entry.epoch_range === null) return html`—`;
  const { from, to } = entry.epoch_range;
  return html`${from === to ? String(from) : `${from}–${to}`} <small class="muted">(${entry.epochs_trained})</small>`;
}

function resultCell(entry: TimelineEntry): SafeHtml {
  if (entry.error === null) return html`ok`;
  return html`<strong>${entry.error.code}</strong>: ${entry.error.message}`;
}

/** Reasons longer than this, or of more lines, are folded behind their first words. */
const REASON_FOLD_LENGTH = 160;
const REASON_FOLD_LINES = 3;
const REASON_PREVIEW_LENGTH = 100;

/** The agent's reason: short ones as they are, long ones folded in a <details> (its id keeps it open across live refreshes). */
function reasonCell(entry: TimelineEntry): SafeHtml {
  const reason = entry.reason;
  if (reason === null) return html`<span class="muted">—</span>`;
  const lines = reason.split('\n');
  if (reason.length <= REASON_FOLD_LENGTH && lines.length <= REASON_FOLD_LINES) return html`<span class="reason-text">${reason}</span>`;
  const first = lines[0]!;
  const preview = first.length > REASON_PREVIEW_LENGTH ? `${first.slice(0, REASON_PREVIEW_LENGTH - 1)}…` : `${first} …`;
  return html`<details id="reason-step-${entry.step}"><summary>${preview} <small class="muted">(all ${reason.length} characters)</small></summary><p class="reason-text">${reason}</p></details>`;
}

function timelineSection(report: EpisodeReport): SafeHtml {
  const rows = report.timeline.map(
    (e) => html`<tr class="${[e.earlier_model ? 'discarded' : '', e.error ? 'error' : ''].filter(Boolean).join(' ')}">
<td class="num">${e.step}</td><td class="tool"><code>${e.tool}</code></td><td class="args">${argumentsHtml(e.arguments)}</td><td class="reason">${reasonCell(e)}</td>
<td class="num">${epochsCell(e)}</td><td class="num">${formatNumber(e.reward)}</td><td>${resultCell(e)}</td>
<td class="num">${e.model_generation === 0 ? '—' : String(e.model_generation)}${e.earlier_model ? html` <small>(replaced)</small>` : ''}</td></tr>`,
  );
  const table = html`<table>
<caption id="timeline-table-caption">Tool calls in order (${report.timeline.length} of ${report.summary.max_steps} steps)</caption>
<thead><tr><th scope="col" class="num">Step</th><th scope="col">Tool</th><th scope="col">Arguments</th><th scope="col">Agent's reason</th><th scope="col" class="num">Epochs</th><th scope="col" class="num">Reward</th><th scope="col">Result</th><th scope="col" class="num">Model</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="8">No step yet.</td></tr>`}</tbody>
</table>`;
  return html`<section aria-labelledby="timeline-heading"><h2 id="timeline-heading">Timeline</h2>${tableRegion('timeline-table', 'Timeline', table)}</section>`;
}

function epochTableSection(report: EpisodeReport): SafeHtml {
  const markersAt = new Map<number, string[]>();
  for (const m of report.markers) {
    if (m.model_epoch === null) continue;
    markersAt.set(m.epoch, [...(markersAt.get(m.epoch) ?? []), `step ${m.step}: ${m.summary}`]);
  }
  const rows = report.epochs.map(
    (p) => html`<tr${p.is_best ? raw(' class="best"') : ''}><th scope="row" class="num">${p.epoch}</th><td class="num">${p.model_epoch}</td>
<td class="num">${formatNumber(p.train_loss)}</td><td class="num">${formatNumber(p.val_loss)}</td><td class="num">${formatPercent(p.train_accuracy, 2)}</td><td class="num">${formatPercent(p.val_accuracy, 2)}</td><td class="num">${formatLr(p.lr)}</td>
<td class="notes">${[p.is_best ? 'best' : '', ...(markersAt.get(p.epoch) ?? [])].filter(Boolean).join('; ')}</td></tr>`,
  );
  const table = html`<table>
<caption id="epochs-table-caption">Per-epoch metrics of model ${report.curves.generation}</caption>
<thead><tr><th scope="col" class="num">Epoch</th><th scope="col" class="num">Model epoch</th><th scope="col" class="num">Train loss</th><th scope="col" class="num">Val loss</th><th scope="col" class="num">Train acc.</th><th scope="col" class="num">Val acc.</th><th scope="col" class="num">LR</th><th scope="col">Notes</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="8">No epoch recorded yet.</td></tr>`}</tbody>
</table>`;
  return html`<section aria-labelledby="epochs-heading"><h2 id="epochs-heading">Per-epoch metrics</h2>
<details id="epochs-details"><summary>Show the data of the charts as a table (${report.epochs.length} epochs)</summary>${tableRegion('epochs-table', 'Per-epoch metrics', table)}</details></section>`;
}

function configSection(report: EpisodeReport): SafeHtml {
  const config = report.config;
  if (config === null) return html`<section aria-labelledby="config-heading"><h2 id="config-heading">Configuration</h2><p>Not configured.</p></section>`;
  const rows = Object.entries(config).map(([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td>${typeof v === 'number' && k.includes('learning_rate') ? formatLr(v) : String(v)}</td></tr>`);
  const table = html`<table><caption id="config-table-caption">Configuration in force now</caption><tbody>${rows}</tbody></table>`;
  const changes = report.markers.map((m) => html`<li>Step ${m.step}, from epoch ${m.epoch}${m.trained_after ? '' : ' (no epoch trained since)'}: ${m.summary}${m.model_epoch === null ? html` <small class="muted">(earlier model)</small>` : ''}</li>`);
  return html`<section aria-labelledby="config-heading"><h2 id="config-heading">Configuration</h2>
<div class="grid2"><div>${tableRegion('config-table', 'Configuration', table)}</div>
<div><h3>Changes</h3>${changes.length > 0 ? html`<ol>${changes}</ol>` : html`<p>None.</p>`}</div></div></section>`;
}

function usageSection(report: EpisodeReport): SafeHtml {
  const u = report.usage;
  return html`<section aria-labelledby="usage-heading"><h2 id="usage-heading">Usage</h2>
${u === null ? html`<p class="muted">Not recorded (the report was made from a saved record). Epochs used: ${report.summary.epochs_used}.</p>` : html`<dl class="stats">
<div><dt>Steps executed</dt><dd>${u.steps}</dd></div><div><dt>Epochs trained</dt><dd>${u.epochs_trained}</dd></div><div><dt>Training time</dt><dd>${formatSeconds(u.training_seconds)}</dd></div></dl>`}</section>`;
}
