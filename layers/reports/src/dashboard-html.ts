import { CLIENT_SCRIPT, UPLOT_CSS } from '../generated/assets';
import { agentLabelKey, getTask } from '../../core/src';
import type { EpisodeSummary } from '../../episodes/src';
import type { EpisodeReport } from './episode-report';
import { renderEpisodeReportHtml, statusBadge } from './episode-report-html';
import { formatNumber, formatPercent, formatTime, html, renderPage, tableRegion, type SafeHtml } from './html';
import { renderLeaderboardHtml, type LeaderboardInput } from './leaderboard';
import { playCommand, type PlayTarget } from './play-command';

/**
 * The pages of the local dashboard (served by layers/server's dashboard routes). Every URL
 * they contain is given by the caller (`href`), so the routes decide the paths and the
 * tenant parameter.
 */
export interface DashboardContext {
  tenant: string;
  /** Whether the tenant can be chosen (a form in the navigation bar). */
  tenantSelectable: boolean;
  /** The URL of a dashboard path, with the tenant parameter as the routes want it. */
  href: (path: string, query?: Record<string, string>) => string;
  /** This server as a client reaches it (the request's origin), for the commands the pages suggest; omitted: a placeholder. */
  playTarget?: PlayTarget;
}

export function dashboardNav(ctx: DashboardContext, current: 'episodes' | 'leaderboard' | 'episode'): SafeHtml {
  const item = (key: typeof current, label: string, href: string) =>
    html`<li><a href="${href}"${current === key ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav class="top" aria-label="Dashboard"><ul>
${item('episodes', 'Episodes', ctx.href('/'))}
${item('leaderboard', 'Leaderboard', ctx.href('/dashboard/leaderboard'))}
${ctx.tenantSelectable ? '' : html`<li class="muted">tenant <code>${ctx.tenant}</code></li>`}
${ctx.tenantSelectable ? html`<li><form method="get" action="${current === 'leaderboard' ? '/dashboard/leaderboard' : '/'}" role="search" aria-label="Choose a tenant"><label for="tenant-input">Tenant</label><input type="text" id="tenant-input" name="tenant" value="${ctx.tenant}" maxlength="64" autocomplete="off"><button type="submit">Show</button></form></li>` : ''}
</ul></nav>`;
}

function taskName(taskId: string): string {
  try {
    return getTask(taskId).name;
  } catch {
    return taskId;
  }
}

export interface EpisodeListOptions {
  items: EpisodeSummary[];
  /** Episodes with a step executing now. */
  running: ReadonlySet<string>;
  /** The next page's URL; null on the last page. */
  nextHref: string | null;
  /** Shown when the list is not the first page. */
  firstHref: string | null;
}

/** The agent key (what the leaderboard groups by), "unlabelled" muted. */
function agentCell(e: EpisodeSummary): SafeHtml {
  return e.agent ? html`${agentLabelKey(e.agent)}` : html`<span class="muted">${agentLabelKey(null)}</span>`;
}

/** What a newcomer runs first (the baseline agent on the easy task, against this server), then the protocol routes. */
function emptyListHint(ctx: DashboardContext): SafeHtml {
  const target = ctx.playTarget ?? { url: "<this server's URL>" };
  return html`<p id="empty-list-hint">No episode yet. Play one against this server from a terminal in the project:</p>
<pre class="command"><code>${playCommand('easy_mnist', 'baseline', target)}</code></pre>
<p class="muted">It appears here and trains live. Your own client can start one with <code>POST /v1/episodes</code>, the OpenEnv <code>POST /reset</code>, or an MCP client.</p>`;
}

/** The list's table (re-rendered live). */
export function renderEpisodeListTable(ctx: DashboardContext, options: EpisodeListOptions): SafeHtml {
  const rows = options.items.map((e) => {
    const running = options.running.has(e.episode_id);
    return html`<tr>
<td><a href="${ctx.href(`/dashboard/episodes/${encodeURIComponent(e.episode_id)}`)}"><code>${e.episode_id}</code></a></td>
<td>${taskName(e.task_id)}<br><small class="muted"><code>${e.task_id}</code> · seed ${e.seed}</small></td>
<td>${agentCell(e)}</td>
<td>${statusBadge(e.status)}${running ? html` <span class="badge live">training now</span>` : ''}</td>
<td class="num">${e.step_count}</td>
<td class="num">${e.step_count === 0 ? '—' : formatPercent(e.best_val_accuracy, 2)}</td>
<td class="num">${formatNumber(e.score)}</td>
<td class="num">${formatTime(e.updated_at)}</td></tr>`;
  });
  const table = html`<table>
<caption id="episodes-table-caption">Episodes of tenant ${ctx.tenant}, newest first</caption>
<thead><tr><th scope="col">Episode</th><th scope="col">Task</th><th scope="col">Agent</th><th scope="col">Status</th><th scope="col" class="num">Steps</th><th scope="col" class="num">Best val acc.</th><th scope="col" class="num">Score</th><th scope="col" class="num">Updated</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="8">${emptyListHint(ctx)}</td></tr>`}</tbody>
</table>`;
  return html`${tableRegion('episodes-table', 'Episodes', table)}
<p>${options.firstHref ? html`<a href="${options.firstHref}">Newest episodes</a>` : ''}${options.firstHref && options.nextHref ? ' · ' : ''}${options.nextHref ? html`<a href="${options.nextHref}">Older episodes</a>` : ''}</p>`;
}

export function renderEpisodeListPage(ctx: DashboardContext, options: EpisodeListOptions & { eventsUrl: string; apiUrl: string }): string {
  const body = html`<header><h1>Episodes</h1><p class="subtitle">Running and ended episodes of this server. The list follows new steps as they happen.</p></header>
<div id="episode-list">${renderEpisodeListTable(ctx, options)}</div>`;
  return renderPage({
    title: 'ml-trainer dashboard: episodes',
    body,
    nav: dashboardNav(ctx, 'episodes'),
    scripts: [CLIENT_SCRIPT],
    extraCss: UPLOT_CSS,
    connect: "'self'",
    bodyAttributes: { 'data-list-events': options.eventsUrl, 'data-list-api': options.apiUrl },
  });
}

export function renderDashboardEpisodePage(ctx: DashboardContext, report: EpisodeReport, urls: { eventsUrl: string; apiUrl: string; reportHtml: string; reportJson: string }): string {
  return renderEpisodeReportHtml(report, {
    nav: dashboardNav(ctx, 'episode'),
    live: { eventsUrl: urls.eventsUrl, apiUrl: urls.apiUrl },
    links: [
      { label: 'Download the report (HTML)', href: urls.reportHtml, download: true },
      { label: 'Report data (JSON)', href: urls.reportJson },
      { label: 'All episodes', href: ctx.href('/') },
    ],
  });
}

export function renderDashboardLeaderboardPage(ctx: DashboardContext, input: LeaderboardInput): string {
  return renderLeaderboardHtml(input, { nav: dashboardNav(ctx, 'leaderboard') });
}

/** A small error page (404 and the like). */
export function renderDashboardMessagePage(ctx: DashboardContext, title: string, message: string): string {
  return renderPage({
    title,
    body: html`<h1>${title}</h1><p>${message}</p><p><a href="${ctx.href('/')}">Back to the episodes</a></p>`,
    nav: dashboardNav(ctx, 'episode'),
  });
}
