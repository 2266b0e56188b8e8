import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EpisodeServiceError, type EpisodeSummary, type EpisodeView, type TenantId } from '../../episodes/src';
import {
  CLIENT_SCRIPT,
  contentSecurityPolicy,
  episodeReportFromView,
  leaderboardEntryFromRecord,
  leaderboardGroupingSchema,
  buildLeaderboardInput,
  measuredBaselines,
  renderDashboardEpisodePage,
  renderDashboardLeaderboardPage,
  renderDashboardMessagePage,
  renderEpisodeDetails,
  renderEpisodeListPage,
  renderEpisodeListTable,
  renderEpisodeOverview,
  renderEpisodeReportHtml,
  type DashboardContext,
  type LeaderboardBaseline,
  type LeaderboardGrouping,
} from '../../reports/src';
import { openEventStream } from './dashboard-event-stream';
import { EpisodeEventBus, observeEpisodeService, type DashboardListener } from './dashboard-events';
import type { ServerContext, ServerOptions } from './server-context';
import { DEFAULT_TENANT, headerTenantResolver, TENANT_PATTERN, TenantError } from './tenant';

/**
 * The local dashboard: `/` lists the episodes, `/dashboard/episodes/:id` shows one with its
 * charts updating live while a step trains (server-sent events), `/dashboard/leaderboard`
 * ranks ended episodes per task. HTML for people; the `/dashboard/api/*` JSON and the event
 * streams feed the pages' script.
 *
 * Tenancy: with the default tenant resolver (the x-tenant-id header, which any local client
 * may set anyway) the pages take `?tenant=` (default "local") and offer a selector. With a
 * custom resolver (authentication) the resolver decides and there is no selector.
 */
export interface DashboardOptions {
  /** Serve the dashboard at / and /dashboard/*; default true. Turn it off for deployments with real tenants. */
  dashboard?: boolean;
  /** The baseline agent's scores by task id, shown on the dashboard's leaderboard; default: the tasks' measured ones. */
  dashboardBaselines?: Record<string, LeaderboardBaseline>;
}

/** With the dashboard on, the options whose service reports every step to the dashboard's event bus. */
export function withDashboard<O extends ServerOptions & DashboardOptions>(options: O): { options: O; bus: EpisodeEventBus | null } {
  if (options.dashboard === false) return { options, bus: null };
  const bus = new EpisodeEventBus();
  return { options: { ...options, service: observeEpisodeService(options.service, bus) }, bus };
}

const EPISODE_ID_PATTERN = /^[^\s/?#]{1,255}$/;
const LIST_PAGE_SIZE = 50;
const LEADERBOARD_MAX_EPISODES = 500;

interface Query {
  tenant?: string;
  cursor?: string;
  group?: string;
}

/** What the dashboard's routes share. */
interface Dashboard {
  ctx: ServerContext;
  bus: EpisodeEventBus;
  options: DashboardOptions;
  /** With the default (header) tenant resolver, the pages choose the tenant with `?tenant=`. */
  selectable: boolean;
  pageCsp: string;
  /** Ends each open event stream (when the server closes). */
  closers: Set<() => void>;
}

type Request = FastifyRequest<{ Params: { id?: string } }>;
type Handler = (request: Request, reply: FastifyReply, dctx: DashboardContext) => Promise<unknown>;

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

export async function dashboardRoutes(app: FastifyInstance, ctx: ServerContext, bus: EpisodeEventBus, options: DashboardOptions = {}): Promise<void> {
  const dashboard: Dashboard = {
    ctx,
    bus,
    options,
    selectable: ctx.resolveTenant === headerTenantResolver,
    pageCsp: `${contentSecurityPolicy({ scripts: [CLIENT_SCRIPT], connect: "'self'" })}; frame-ancestors 'none'`,
    closers: new Set(),
  };
  app.addHook('preClose', (done) => {
    for (const close of [...dashboard.closers]) close();
    done();
  });
  episodeListRoutes(app, dashboard);
  episodeRoutes(app, dashboard);
  leaderboardRoute(app, dashboard);
  eventStreamRoutes(app, dashboard);
}

/** `/` (and `/dashboard`, redirected), with its JSON for the page's live updates. */
function episodeListRoutes(app: FastifyInstance, d: Dashboard): void {
  app.get('/', pageRoute(d, async (request, reply, dctx) => {
    const cursor = queryOf(request).cursor;
    const { options: list } = await listing(d, dctx, cursor);
    const apiUrl = dctx.href('/dashboard/api/episodes', cursor ? { cursor } : {});
    return sendPage(d, reply, 200, renderEpisodeListPage(dctx, { ...list, eventsUrl: dctx.href('/dashboard/events'), apiUrl }));
  }));

  app.get('/dashboard', async (request, reply) => reply.redirect(request.url.replace(/^\/dashboard\/?/, '/'), 302));

  app.get('/dashboard/api/episodes', apiRoute(d, async (request, _reply, dctx) => {
    const cursor = queryOf(request).cursor;
    const { items, cursor: next, options: list } = await listing(d, dctx, cursor);
    return { tenant: dctx.tenant, items, cursor: next, running: [...list.running], html: renderEpisodeListTable(dctx, list).value };
  }));
}

/** One episode: its page, its JSON, and its report as JSON and as a self-contained HTML file. */
function episodeRoutes(app: FastifyInstance, d: Dashboard): void {
  app.get('/dashboard/episodes/:id', pageRoute(d, async (request, reply, dctx) => {
    const view = await loadEpisode(d, dctx, request.params.id);
    const report = episodeReportFromView(view);
    return sendPage(d, reply, 200, renderDashboardEpisodePage(dctx, report, episodeUrls(dctx, view.episode_id)));
  }));

  app.get('/dashboard/api/episodes/:id', apiRoute(d, async (request, _reply, dctx) => {
    const view = await loadEpisode(d, dctx, request.params.id);
    const report = episodeReportFromView(view);
    return { report, overview: renderEpisodeOverview(report).value, details: renderEpisodeDetails(report).value };
  }));

  app.get('/dashboard/episodes/:id/report.json', apiRoute(d, async (request, reply, dctx) => {
    const view = await loadEpisode(d, dctx, request.params.id);
    reply.header('content-disposition', `inline; filename="${fileName(view.episode_id)}.json"`);
    return episodeReportFromView(view);
  }));

  app.get('/dashboard/episodes/:id/report.html', pageRoute(d, async (request, reply, dctx) => {
    const view = await loadEpisode(d, dctx, request.params.id);
    const html = renderEpisodeReportHtml(episodeReportFromView(view));
    reply.header('content-disposition', `attachment; filename="${fileName(view.episode_id)}.html"`);
    return sendPage(d, reply, 200, html);
  }));
}

/** The tenant's ended episodes ranked per task (by agent, or by episode with `?group=episode`), with the baseline agent's scores. */
function leaderboardRoute(app: FastifyInstance, d: Dashboard): void {
  app.get('/dashboard/leaderboard', pageRoute(d, async (request, reply, dctx) => {
    const groupBy = leaderboardGrouping(queryOf(request).group);
    const views = await endedEpisodes(d.ctx, dctx.tenant);
    const entries = views.map((v) => ({
      task_id: v.task_id,
      ...leaderboardEntryFromRecord({
        episode_id: v.episode_id,
        record: v.record,
        usage: v.usage,
        ended_at: v.updated_at,
        report_href: dctx.href(`/dashboard/episodes/${encodeURIComponent(v.episode_id)}`),
      }),
    }));
    const input = buildLeaderboardInput(entries, {
      title: 'Leaderboard',
      subtitle: `Ended episodes of tenant ${dctx.tenant} on this server, ranked per task.${views.length >= LEADERBOARD_MAX_EPISODES ? ` Only the newest ${LEADERBOARD_MAX_EPISODES} are included.` : ''}`,
      baselines: d.options.dashboardBaselines ?? measuredBaselines(entries.map((e) => e.task_id)),
      play_target: dctx.playTarget,
      group_by: groupBy,
      grouping_hrefs: {
        agent: dctx.href('/dashboard/leaderboard'),
        episode: dctx.href('/dashboard/leaderboard', { group: 'episode' }),
      },
    });
    return sendPage(d, reply, 200, renderDashboardLeaderboardPage(dctx, input));
  }));
}

/** The live updates: every episode of the tenant, or one episode (replaying its current step first). */
function eventStreamRoutes(app: FastifyInstance, d: Dashboard): void {
  app.get('/dashboard/events', apiRoute(d, async (request, reply, dctx) => {
    openEventStream(request, reply, d.closers, (send) => d.bus.subscribe({ tenant: dctx.tenant }, send), []);
    return reply;
  }));

  app.get('/dashboard/events/:id', apiRoute(d, async (request, reply, dctx) => {
    const view = await loadEpisode(d, dctx, request.params.id);
    const subscribe = (send: DashboardListener) => d.bus.subscribe({ tenant: dctx.tenant, episodeId: view.episode_id }, send);
    openEventStream(request, reply, d.closers, subscribe, d.bus.replay(dctx.tenant, view.episode_id));
    return reply;
  }));
}

/** An HTML route: renders a page, or a small HTML error page for what went wrong. */
function pageRoute(d: Dashboard, handler: Handler) {
  return async (request: Request, reply: FastifyReply) => {
    let dctx: DashboardContext | null = null;
    try {
      dctx = await dashboardContext(d, request);
      return await handler(request, reply, dctx);
    } catch (error) {
      const failure = pageFailure(error);
      if (failure === null) throw error;
      const fallback: DashboardContext = dctx ?? { tenant: DEFAULT_TENANT, tenantSelectable: d.selectable, href: (p) => p };
      return sendPage(d, reply, failure.status, renderDashboardMessagePage(fallback, failure.title, failure.message));
    }
  };
}

/** A JSON route: the same, with failures as {"error": {code, message}}. */
function apiRoute(d: Dashboard, handler: Handler) {
  return async (request: Request, reply: FastifyReply) => {
    try {
      const dctx = await dashboardContext(d, request);
      reply.header('cache-control', 'no-store');
      return await handler(request, reply, dctx);
    } catch (error) {
      const failure = pageFailure(error);
      if (failure === null) throw error;
      return reply.status(failure.status).send({ error: { code: failure.code, message: failure.message } });
    }
  };
}

function sendPage(d: Dashboard, reply: FastifyReply, status: number, page: string) {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', d.pageCsp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(page);
}

async function dashboardContext(d: Dashboard, request: FastifyRequest): Promise<DashboardContext> {
  const tenant = await tenantOf(d, request);
  const withTenant = d.selectable && tenant !== DEFAULT_TENANT;
  return {
    tenant,
    tenantSelectable: d.selectable,
    playTarget: { url: `${request.protocol}://${request.host}`, tenant: withTenant ? tenant : null },
    href: (path, extra = {}) => {
      const params = new URLSearchParams({ ...(withTenant ? { tenant } : {}), ...extra });
      const text = params.toString();
      return text ? `${path}?${text}` : path;
    },
  };
}

/** The page's `?tenant=` when the pages choose it, else the server's tenant resolver's. */
async function tenantOf(d: Dashboard, request: FastifyRequest): Promise<TenantId> {
  const chosen = queryOf(request).tenant;
  if (d.selectable && chosen !== undefined) {
    if (!TENANT_PATTERN.test(chosen)) {
      throw new PageError(400, 'Invalid tenant', 'A tenant is 1 to 64 characters of letters, digits and . _ : - (starting with a letter or digit).');
    }
    return chosen;
  }
  try {
    return await d.ctx.resolveTenant(request);
  } catch (error) {
    if (error instanceof TenantError) throw new PageError(error.statusCode, 'Not allowed', error.message);
    throw error;
  }
}

function firstString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function queryOf(request: FastifyRequest): Query {
  const q = (request.query ?? {}) as Record<string, unknown>;
  const tenant = firstString(q.tenant);
  const cursor = firstString(q.cursor);
  const group = firstString(q.group);
  return { ...(tenant ? { tenant } : {}), ...(cursor ? { cursor } : {}), ...(group !== undefined ? { group } : {}) };
}

/** `?group=`: agent (default) or episode; anything else is a 400 page naming both. */
function leaderboardGrouping(group: string | undefined): LeaderboardGrouping {
  const parsed = leaderboardGroupingSchema.safeParse(group);
  if (parsed.success) return parsed.data;
  throw new PageError(400, 'Invalid grouping', `group ${JSON.stringify(group).slice(0, 80)} is not a grouping: use group=agent (the default) or group=episode.`);
}

async function loadEpisode(d: Dashboard, dctx: DashboardContext, id: string | undefined): Promise<EpisodeView> {
  if (id === undefined || !EPISODE_ID_PATTERN.test(id)) throw new PageError(404, 'Episode not found', 'There is no such episode.');
  return d.ctx.service.getEpisode(dctx.tenant, id);
}

function episodeUrls(dctx: DashboardContext, id: string) {
  const e = encodeURIComponent(id);
  return {
    eventsUrl: dctx.href(`/dashboard/events/${e}`),
    apiUrl: dctx.href(`/dashboard/api/episodes/${e}`),
    reportHtml: dctx.href(`/dashboard/episodes/${e}/report.html`),
    reportJson: dctx.href(`/dashboard/episodes/${e}/report.json`),
  };
}

/** One page of the episode list, and what the list's renderers take. */
async function listing(d: Dashboard, dctx: DashboardContext, cursor: string | undefined) {
  const page = await d.ctx.service.listEpisodes(dctx.tenant, { limit: LIST_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
  return {
    items: page.items,
    cursor: page.cursor,
    options: {
      items: page.items,
      running: d.bus.running(dctx.tenant),
      nextHref: page.cursor ? dctx.href('/', { cursor: page.cursor }) : null,
      firstHref: cursor ? dctx.href('/') : null,
    },
  };
}

/** The tenant's ended episodes among its newest LEADERBOARD_MAX_EPISODES, loaded 8 at a time. */
async function endedEpisodes(ctx: ServerContext, tenant: TenantId): Promise<EpisodeView[]> {
  const ended: EpisodeSummary[] = [];
  let cursor: string | null = null;
  let seen = 0;
  do {
    const page: { items: EpisodeSummary[]; cursor: string | null } = await ctx.service.listEpisodes(tenant, { limit: 100, ...(cursor ? { cursor } : {}) });
    seen += page.items.length;
    ended.push(...page.items.filter((e) => e.status !== 'active'));
    cursor = page.cursor;
  } while (cursor !== null && seen < LEADERBOARD_MAX_EPISODES);
  const views: EpisodeView[] = [];
  for (let i = 0; i < ended.length; i += 8) {
    const batch = await Promise.all(ended.slice(i, i + 8).map((e) => ctx.service.getEpisode(tenant, e.episode_id).catch(() => null)));
    for (const v of batch) if (v !== null) views.push(v);
  }
  return views;
}

function fileName(episodeId: string): string {
  return `episode-${episodeId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}`;
}

function pageFailure(error: unknown): { status: number; code: string; title: string; message: string } | null {
  if (error instanceof PageError) return { status: error.status, code: error.status === 404 ? 'not_found' : 'invalid_request', title: error.title, message: error.message };
  if (error instanceof EpisodeServiceError) {
    if (error.code === 'not_found') return { status: 404, code: 'not_found', title: 'Episode not found', message: 'There is no such episode for this tenant.' };
    if (error.code === 'invalid_request') return { status: 400, code: 'invalid_request', title: 'Invalid request', message: error.message };
  }
  return null;
}
