import type { EvalEpisodeData, Interval } from './eval-report-data';
import { formatNumber, formatPercent, html, type SafeHtml } from './html';

/**
 * The eval report's two charts as inline SVG drawn on the server: a page without script
 * reads offline and needs no CSP exception, and each mark carries a <title> (the browser's
 * own tooltip) naming its episode's seed and score.
 */

/** A reference drawn next to the agent's scores: a policy's mean and interval. */
export interface StripReference {
  label: string;
  score: Interval;
}

const STRIP = { width: 900, rowHeight: 36, left: 190, right: 14, top: 10, bottom: 26 };
const CURVES = { width: 900, height: 320, left: 46, right: 14, top: 12, bottom: 34 };
const LABEL_CHARS = 24;

const finite = (value: number | null | undefined): value is number => typeof value === 'number' && Number.isFinite(value);
const fixed = (value: number) => value.toFixed(1);

function shortLabel(label: string): string {
  return label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label;
}

function describeInterval(score: Interval): string {
  return `mean ${formatNumber(score.mean)}, interval ${formatNumber(score.low)} to ${formatNumber(score.high)}`;
}

/** The mean as a tick and the interval as a band across one row (nothing where they are unknown). */
function intervalMarks(score: Interval, x: (v: number) => number, y: number, kind: 'agent' | 'ref'): SafeHtml {
  const band =
    finite(score.low) && finite(score.high)
      ? html`<rect class="ci-band ${kind}" x="${fixed(x(score.low))}" y="${fixed(y - 7)}" width="${fixed(Math.max(1, x(score.high) - x(score.low)))}" height="14"></rect>`
      : '';
  const mean = finite(score.mean) ? html`<line class="mean-mark ${kind}" x1="${fixed(x(score.mean))}" x2="${fixed(x(score.mean))}" y1="${fixed(y - 13)}" y2="${fixed(y + 13)}"></line>` : '';
  return html`${band}${mean}`;
}

function scoreAxis(x: (v: number) => number, top: number, bottom: number): SafeHtml {
  return html`${[0, 0.2, 0.4, 0.6, 0.8, 1].map(
    (t) => html`<line class="grid-line" x1="${fixed(x(t))}" x2="${fixed(x(t))}" y1="${top}" y2="${bottom}"></line><text x="${fixed(x(t))}" y="${bottom + 15}" text-anchor="middle">${String(t)}</text>`,
  )}`;
}

/**
 * The score distribution: one row for the agent (a dot per graded episode, its mean and
 * interval) and one per reference (its mean and interval), on the score scale 0 to 1.
 */
export function scoreStripSvg(id: string, agent: { label: string; score: Interval; episodes: readonly EvalEpisodeData[] }, references: readonly StripReference[]): SafeHtml {
  const rows = [{ label: agent.label, score: agent.score }, ...references];
  const height = STRIP.top + rows.length * STRIP.rowHeight + STRIP.bottom;
  const plotW = STRIP.width - STRIP.left - STRIP.right;
  const x = (v: number) => STRIP.left + Math.min(1, Math.max(0, v)) * plotW;
  const rowY = (i: number) => STRIP.top + i * STRIP.rowHeight + STRIP.rowHeight / 2;
  const graded = agent.episodes.filter((e) => finite(e.score));
  // A small fixed vertical offset per dot so equal scores stay visible (no randomness: the same data draws the same page).
  const dots = graded.map(
    (e, i) => html`<circle class="ep-dot" cx="${fixed(x(e.score!))}" cy="${fixed(rowY(0) + ((i % 5) - 2) * 3)}" r="4"><title>seed ${e.seed} · score ${formatNumber(e.score)} · episode ${e.episode_id}</title></circle>`,
  );
  const labels = rows.map((r, i) => html`<text class="row-label" x="${STRIP.left - 8}" y="${fixed(rowY(i) + 4)}" text-anchor="end">${shortLabel(r.label)}<title>${r.label}</title></text>`);
  const marks = rows.map((r, i) => intervalMarks(r.score, x, rowY(i), i === 0 ? 'agent' : 'ref'));
  const axisBottom = STRIP.top + rows.length * STRIP.rowHeight;
  const description = `Scores of ${graded.length} graded episode${graded.length === 1 ? '' : 's'} of ${agent.label} (${describeInterval(agent.score)})${references
    .map((r) => `; ${r.label}: ${describeInterval(r.score)}`)
    .join('')}.`;
  return html`<svg class="strip" id="${id}" viewBox="0 0 ${STRIP.width} ${height}" role="img" aria-labelledby="${id}-title"><title id="${id}-title">${description}</title>
${scoreAxis(x, STRIP.top, axisBottom)}<text x="${STRIP.left - 8}" y="${axisBottom + 15}" text-anchor="end" class="axis-name">score</text>
${labels}${marks}${dots}</svg>`;
}

interface Domain {
  low: number;
  high: number;
}

/** The accuracy range the curves need, in steps of 0.1 within 0…1 (so curves near 98% are not squashed flat). */
function accuracyDomain(values: readonly number[]): Domain {
  if (values.length === 0) return { low: 0, high: 1 };
  const low = Math.max(0, Math.floor(Math.min(...values) * 10) / 10);
  const high = Math.min(1, Math.ceil(Math.max(...values) * 10) / 10);
  return high - low < 0.1 ? { low: Math.max(0, high - 0.1), high: Math.max(0.1, high) } : { low, high };
}

function curveTitle(e: EvalEpisodeData): string {
  const last = e.val_accuracy[e.val_accuracy.length - 1];
  return `seed ${e.seed} · score ${e.score === null ? 'none (failed)' : formatNumber(e.score)} · final val accuracy ${formatPercent(last, 2)} · episode ${e.episode_id}`;
}

/** The validation accuracy per epoch of every episode overlaid (one line each), with the task's target. */
export function curvesSvg(id: string, episodes: readonly EvalEpisodeData[], maxEpochs: number, target: number | null): SafeHtml {
  const drawn = episodes.filter((e) => e.val_accuracy.some(finite));
  const values = [...drawn.flatMap((e) => e.val_accuracy.filter(finite)), ...(finite(target) ? [target] : [])];
  const domain = accuracyDomain(values);
  const lastEpoch = Math.max(2, maxEpochs, ...drawn.map((e) => e.val_accuracy.length));
  const plotW = CURVES.width - CURVES.left - CURVES.right;
  const plotH = CURVES.height - CURVES.top - CURVES.bottom;
  const x = (epoch: number) => CURVES.left + ((epoch - 1) / (lastEpoch - 1)) * plotW;
  const y = (v: number) => CURVES.top + (1 - (v - domain.low) / (domain.high - domain.low)) * plotH;
  const lines = drawn.map((e) => {
    const points = e.val_accuracy.flatMap((v, i) => (finite(v) ? [{ x: fixed(x(i + 1)), y: fixed(y(v)) }] : []));
    const path = points.map((p) => `${p.x},${p.y}`).join(' ');
    const failed = e.score === null ? ' failed' : '';
    // A one-epoch curve is a point: the polyline draws nothing, so a dot stands for it.
    const single = points.length === 1 ? html`<circle class="curve-dot${failed}" cx="${points[0]!.x}" cy="${points[0]!.y}" r="3"></circle>` : '';
    return html`<g class="episode-curve"><title>${curveTitle(e)}</title><polyline class="curve-hit" points="${path}"></polyline><polyline class="curve${failed}" points="${path}"></polyline>${single}</g>`;
  });
  const yTicks = Array.from({ length: Math.round((domain.high - domain.low) * 10) + 1 }, (_, i) => domain.low + i * 0.1).map(
    (v) => html`<line class="grid-line" x1="${CURVES.left}" x2="${CURVES.width - CURVES.right}" y1="${fixed(y(v))}" y2="${fixed(y(v))}"></line><text x="${CURVES.left - 6}" y="${fixed(y(v) + 4)}" text-anchor="end">${formatPercent(v, 0)}</text>`,
  );
  const xStep = lastEpoch > 12 ? 5 : lastEpoch > 6 ? 2 : 1;
  const xTicks = Array.from({ length: lastEpoch }, (_, i) => i + 1)
    .filter((epoch) => epoch === 1 || epoch % xStep === 0)
    .map((epoch) => html`<text x="${fixed(x(epoch))}" y="${CURVES.height - CURVES.bottom + 16}" text-anchor="middle">${epoch}</text>`);
  const targetLine = finite(target) ? html`<line class="target-line" x1="${CURVES.left}" x2="${CURVES.width - CURVES.right}" y1="${fixed(y(target))}" y2="${fixed(y(target))}"></line>` : '';
  const description = `Validation accuracy per epoch of ${drawn.length} episode${drawn.length === 1 ? '' : 's'}, one line each, epochs 1 to ${lastEpoch}${finite(target) ? `, target ${formatPercent(target, 1)} dashed` : ''}. The figures are in the table of episodes.`;
  return html`<svg class="curves" id="${id}" viewBox="0 0 ${CURVES.width} ${CURVES.height}" role="img" aria-labelledby="${id}-title"><title id="${id}-title">${description}</title>
${yTicks}${xTicks}<text x="${CURVES.width - CURVES.right}" y="${CURVES.height - 4}" text-anchor="end" class="axis-name">epoch</text>
${targetLine}${lines}</svg>`;
}

/** The charts' look, added to the page's CSS (colours from the shared scheme). */
export const EVAL_CHART_CSS = `
svg.strip,svg.curves{display:block;width:100%;min-width:34rem;height:auto}
figure.svg-chart{overflow-x:auto}
svg.strip text,svg.curves text{fill:var(--fg);font-size:12px}
svg .axis-name{fill:var(--muted)}
.grid-line{stroke:var(--line);stroke-width:1}
.ep-dot{fill:var(--train);fill-opacity:.75;stroke:var(--bg);stroke-width:1}
.ci-band.agent{fill:var(--train);fill-opacity:.18}
.ci-band.ref{fill:var(--baseline);fill-opacity:.15}
.mean-mark{stroke-width:3}.mean-mark.agent{stroke:var(--train)}.mean-mark.ref{stroke:var(--baseline);stroke-dasharray:4 2}
.curve{fill:none;stroke:var(--train);stroke-opacity:.6;stroke-width:1.5}
.curve.failed{stroke:var(--bad);stroke-dasharray:4 3}
.curve-dot{fill:var(--train)}.curve-dot.failed{fill:var(--bad)}
.curve-hit{fill:none;stroke:transparent;stroke-width:9;pointer-events:stroke}
.episode-curve:hover .curve{stroke-opacity:1;stroke-width:3}
.target-line{stroke:var(--target);stroke-width:1.5;stroke-dasharray:8 4}
`;
