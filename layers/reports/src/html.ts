import { createHash } from 'node:crypto';

/**
 * HTML building blocks shared by the episode report, the leaderboard and the dashboard.
 * Every string that reaches a page goes through `html` (escaped) unless it is SafeHtml
 * that this module or a renderer built: user strings (tool names, arguments, error
 * messages, episode ids, tenants) can never become markup.
 */

/** Markup that is already safe to emit as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function fragment(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(fragment).join('');
  return escapeHtml(String(value));
}

/** Template tag: interpolated values are escaped; SafeHtml (and arrays of it) pass through; null/undefined/false vanish. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += fragment(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Trusted markup (only for constants of this layer). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A JSON value to embed in `<script type="application/json">`: no `<`, `>`, `&` or line separators survive unescaped. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The CSP source of an inline script or style: 'sha256-…'. */
export function cspHash(content: string): string {
  return `'sha256-${createHash('sha256').update(content, 'utf8').digest('base64')}'`;
}

/** Compact JSON of a tool's arguments for display (at most `limit` characters). */
export function compactJson(value: unknown, limit = 400): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'null';
  } catch {
    text = String(value);
  }
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return String(Number(value.toFixed(digits)));
}

export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(digits)}%`;
}

/** A learning rate: 0.001, 3e-5 … */
export function formatLr(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  return Math.abs(value) < 1e-3 ? value.toExponential(2).replace(/\.?0+e/, 'e') : String(Number(value.toPrecision(4)));
}

export function formatSeconds(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value < 60) return `${value.toFixed(value < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(value / 60);
  const seconds = Math.round(value - minutes * 60);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

/** A difference: +0.0123, −0.0123 (a true minus sign), ±0. */
export function formatSigned(value: number): string {
  const text = formatNumber(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : '±0';
}

/** A fragment id from any text (task ids in a page's anchors). */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'task';
}

/** A date-time as `2024-05-01 12:34:56 UTC` (stable across machines: no locale). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A scrollable, keyboard-focusable wrapper for a wide table, labelled by its caption. */
export function tableRegion(id: string, label: string, table: SafeHtml): SafeHtml {
  return html`<div class="table-wrap" role="region" tabindex="0" aria-labelledby="${id}-caption" data-label="${label}">${table}</div>`;
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Inline scripts to run (their CSP hashes are allowed); none: a page without JavaScript. */
  scripts?: string[];
  /** Extra inline CSS (e.g. uPlot's). */
  extraCss?: string;
  /** connect-src of the CSP: 'none' for files (no request at all), 'self' for the dashboard. */
  connect?: "'none'" | "'self'";
  /** Attributes of <body> (data-*). */
  bodyAttributes?: Record<string, string>;
  /** A navigation bar above the content. */
  nav?: SafeHtml;
}

/** The Content-Security-Policy a page declares (also sent as a header by the dashboard). */
export function contentSecurityPolicy(options: Pick<PageOptions, 'scripts' | 'connect'>): string {
  const scripts = (options.scripts ?? []).map(cspHash);
  return [
    "default-src 'none'",
    `script-src ${scripts.length > 0 ? scripts.join(' ') : "'none'"}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    `connect-src ${options.connect ?? "'none'"}`,
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** A complete, self-contained HTML document. */
export function renderPage(options: PageOptions): string {
  const attributes = Object.entries(options.bodyAttributes ?? {}).map(([k, v]) => html` ${raw(safeAttributeName(k))}="${v}"`);
  const scripts = (options.scripts ?? []).map((s) => `<script>${s}</script>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(options))}">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(options.title)}</title>
<style>${BASE_CSS}${options.extraCss ?? ''}</style>
</head>
<body${fragment(attributes)}>
<a class="skip-link" href="#main">Skip to content</a>
${options.nav ? options.nav.value : ''}
<main id="main" tabindex="-1">
${options.body.value}
</main>
${scripts}
</body>
</html>
`;
}

function safeAttributeName(name: string): string {
  if (!/^data-[a-z0-9-]+$/.test(name)) throw new Error(`not a data attribute: ${name}`);
  return name;
}

/**
 * Okabe–Ito colours (colour-blind safe); series also differ by dash pattern, so nothing is
 * told by colour alone. Light and dark schemes follow the system setting.
 */
export const BASE_CSS = `
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1c1c21;--muted:#55555f;--line:#d5d5dc;--card:#f5f5f7;--link:#0059a0;
--focus:#e69f00;--train:#0072b2;--val:#d55e00;--lr:#009e73;--marker:#cc79a7;--marker-ink:#94406f;--best:#1c1c21;--target:#55555f;--bar:#56b4e9;--baseline:#d55e00;
--ok:#00734f;--warn:#a35200;--bad:#b3261e;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45}
@media (prefers-color-scheme:dark){:root{--bg:#15151a;--fg:#ececf1;--muted:#a9a9b6;--line:#3a3a44;--card:#1f1f26;--link:#7cc4f0;
--train:#56b4e9;--val:#e69f00;--lr:#009e73;--marker:#cc79a7;--marker-ink:#e3a6c8;--best:#f0e442;--target:#a9a9b6;--bar:#56b4e9;--baseline:#e69f00;--ok:#4fd1a5;--warn:#f0b44c;--bad:#ff8a80}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font-size:1rem}
main{max-width:76rem;margin:0 auto;padding:1rem 1rem 3rem}
main:focus{outline:none}
h1{font-size:1.6rem;margin:.5rem 0 .25rem;line-height:1.2;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin:2rem 0 .5rem;padding-bottom:.25rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.25rem 0 .5rem}
p{margin:.5rem 0}
a{color:var(--link)}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px;border-radius:2px}
.skip-link{position:absolute;left:-999px;top:0;background:var(--bg);color:var(--fg);padding:.5rem 1rem;z-index:10}
.skip-link:focus{left:.5rem;top:.5rem}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.muted{color:var(--muted)}
.subtitle{color:var(--muted);margin:0 0 1rem;overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875em}
nav.top{background:var(--card);border-bottom:1px solid var(--line)}
nav.top ul{list-style:none;margin:0 auto;padding:.5rem 1rem;max-width:76rem;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;align-items:center}
nav.top a{font-weight:600;text-decoration:none;padding:.25rem 0;display:inline-block}
nav.top a[aria-current="page"]{text-decoration:underline;text-underline-offset:.3em}
nav.top form{margin-left:auto;display:flex;gap:.4rem;align-items:center}
input,button,select{font:inherit;color:inherit}
input[type=text]{background:var(--bg);border:1px solid var(--muted);border-radius:4px;padding:.2rem .4rem;width:10rem}
button{background:var(--card);border:1px solid var(--muted);border-radius:4px;padding:.2rem .7rem;cursor:pointer}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5rem,1fr));gap:.6rem;margin:1rem 0;padding:0;align-content:start}
.stats div{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.55rem .75rem}
.stats dt{font-size:.8rem;color:var(--muted);margin:0}
.stats dd{margin:.1rem 0 0;font-size:1.2rem;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.stats dd small{font-size:.8rem;font-weight:400;color:var(--muted)}
.stats dd small.card-note{display:block;margin-top:.15rem;line-height:1.3}
.agent .agent-label{font-size:1.1rem}
pre.command{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem;margin:.5rem 0;white-space:pre-wrap;overflow-wrap:break-word}
.badge{display:inline-block;border:1px solid currentColor;border-radius:999px;padding:0 .55rem;font-size:.8rem;font-weight:600;white-space:nowrap;vertical-align:middle}
.badge.ok{color:var(--ok)}.badge.warn{color:var(--warn)}.badge.bad{color:var(--bad)}.badge.live{color:var(--train)}
.notice{border-left:4px solid var(--marker);background:var(--card);padding:.6rem .9rem;margin:1rem 0;border-radius:0 6px 6px 0}
.notice.bad{border-left-color:var(--bad)}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px;margin:.5rem 0 1rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.5rem .75rem;caption-side:top}
th,td{padding:.35rem .75rem;border-top:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--card);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.discarded td{color:var(--muted)}
tr.best td{font-weight:600}
tr.error td.tool{color:var(--bad)}
td.args{min-width:14rem;max-width:28rem;overflow-wrap:break-word}
td.args .arg{display:inline-block;max-width:100%}
td.reason{min-width:14rem;max-width:32rem;overflow-wrap:anywhere}
td.reason details{margin:0;border:none;padding:0}
td.reason summary{font-weight:400;padding:0}
.reason-text{white-space:pre-wrap;margin:.25rem 0 0}
#leaderboard-grouping a[aria-current="page"]{font-weight:700;text-decoration:none;color:var(--fg)}
td.notes{min-width:20rem}
details{margin:.75rem 0;border:1px solid var(--line);border-radius:6px;padding:.25rem .75rem}
details[open]{padding-bottom:.75rem}
summary{cursor:pointer;font-weight:600;padding:.4rem 0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,30rem),1fr));gap:1rem;margin:1rem 0}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.6rem .6rem .4rem;min-width:0}
figure.wide{grid-column:1/-1}
figcaption{font-weight:600;margin:0 0 .35rem}
figcaption .key{font-weight:400;font-size:.85rem;color:var(--muted);display:flex;flex-wrap:wrap;gap:.2rem 1rem;margin-top:.2rem}
.key span{display:inline-flex;align-items:center;gap:.35rem}
.key svg{flex:none}
.chart{min-height:12rem;width:100%;position:relative}
.chart.small{min-height:8rem}
.chart .empty{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;color:var(--muted)}
.k-train{stroke:var(--train)}.k-val{stroke:var(--val)}.k-lr{stroke:var(--lr)}.k-marker{stroke:var(--marker)}.k-best{stroke:var(--best)}.k-target{stroke:var(--target)}.k-bar{stroke:var(--bar)}.k-baseline{stroke:var(--baseline)}
.live-status{min-height:1.5rem;font-weight:600;color:var(--train)}
.hist{display:block;width:100%;max-width:30rem;height:auto}
.bar{fill:var(--bar)}
.baseline-line{stroke:var(--baseline);stroke-width:2;stroke-dasharray:5 3}
.axis{stroke:var(--muted);stroke-width:1}
.hist text{fill:var(--fg);font-size:11px}
.hist text.axis-title{fill:var(--muted)}
.baseline-note{font-size:.85rem;margin:0 0 .5rem}
code.command span{white-space:nowrap}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr));gap:1rem}
footer{margin-top:2.5rem;font-size:.8rem;color:var(--muted)}
@media (max-width:40rem){main{padding:.75rem .6rem 2rem}h1{font-size:1.3rem}th,td{padding:.3rem .5rem}.stats dd{font-size:1.05rem}nav.top form{margin-left:0}}
@media print{nav.top,.skip-link,.k-train{stroke:var(--train)}.k-val{stroke:var(--val)}.k-lr{stroke:var(--lr)}.k-marker{stroke:var(--marker)}.k-best{stroke:var(--best)}.k-target{stroke:var(--target)}.k-bar{stroke:var(--bar)}.k-baseline{stroke:var(--baseline)}
.live-status{display:none}details{border:none}}
`;
