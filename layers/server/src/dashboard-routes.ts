import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EpisodeSummary, EpisodeView, TenantId } from '../../episodes/src/episode-service';
import { EpisodeServiceError } from '../../episodes/src/episode-service';
import { CLIENT_SCRIPT } from '../../reports/generated/assets';
import {
  contentSecurityPolicy,
  episodeReportFromView,
  leaderboardEntryFromRecord,
  buildLeaderboardInput,
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
} from '../../reports/src';
import { EpisodeEventBus, observeEpisodeService, type DashboardEvent } from './dashboard-events';
import type { ServerContext, ServerOptions } from './server-context';
import { DEFAULT_TENANT, headerTenantResolver, TenantError } from './tenant';

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
  /** The baseline agent's scores by task id, shown on the dashboard's leaderboard. */
  dashboardBaselines?: Record<string, LeaderboardBaseline>;
}

/** With the dashboard on, the options whose service reports every step to the dashboard's event bus. */
export function withDashboard<O extends ServerOptions & DashboardOptions>(options: O): { options: O; bus: EpisodeEventBus | null } {
  if (options.dashboard === false) return { options, bus: null };
  const bus = new EpisodeEventBus();
  return { options: { ...options, service: observeEpisodeService(options.service, bus) }, bus };
}

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const EPISODE_ID_PATTERN = /^[^\s/?#]{1,255}$/;
const LIST_PAGE_SIZE = 50;
const LEADERBOARD_MAX_EPISODES = 500;
const KEEP_ALIVE_MS = 15_000;

interface Query {
  tenant?: string;
  cursor?: string;
}

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
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
  return { ...(tenant ? { tenant } : {}), ...(cursor ? { cursor } : {}) };
}

export async function dashboardRoutes(app: FastifyInstance, ctx: ServerContext, bus: EpisodeEventBus, options: DashboardOptions = {}): Promise<void> {
  const selectable = ctx.resolveTenant === headerTenantResolver;
  const pageCsp = `${contentSecurityPolicy({ scripts: [CLIENT_SCRIPT], connect: "'self'" })}; frame-ancestors 'none'`;
  const closers = new Set<() => void>();

  app.addHook('preClose', (done) => {
    for (const close of [...closers]) close();
    done();
  });

  async function dashboardContext(request: FastifyRequest): Promise<DashboardContext> {
    let tenant: TenantId;
    const query = queryOf(request);
    if (selectable && query.tenant !== undefined) {
      if (!TENANT_PATTERN.test(query.tenant)) {
        throw new PageError(400, 'Invalid tenant', 'A tenant is 1 to 64 characters of letters, digits and . _ : - (starting with a letter or digit).');
      }
      tenant = query.tenant;
    } else {
      try {
        tenant = await ctx.resolveTenant(request);
      } catch (error) {
        if (error instanceof TenantError) throw new PageError(error.statusCode, 'Not allowed', error.message);
        throw error;
      }
    }
    const withTenant = selectable && tenant !== DEFAULT_TENANT;
    return {
      tenant,
      tenantSelectable: selectable,
      href: (path, extra = {}) => {
        const params = new URLSearchParams({ ...(withTenant ? { tenant } : {}), ...extra });
        const text = params.toString();
        return text ? `${path}?${text}` : path;
      },
    };
  }

  function sendPage(reply: FastifyReply, status: number, page: string) {
    return reply
      .status(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', pageCsp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(page);
  }

  /** Renders a page, or a small HTML error page for what went wrong. */
  function page(handler: (request: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply, dctx: DashboardContext) => Promise<unknown>) {
    return async (request: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply) => {
      let dctx: DashboardContext | null = null;
      try {
        dctx = await dashboardContext(request);
        return await handler(request, reply, dctx);
      } catch (error) {
        const failure = pageFailure(error);
        if (failure === null) throw error;
        const fallback: DashboardContext = dctx ?? { tenant: DEFAULT_TENANT, tenantSelectable: selectable, href: (p) => p };
        return sendPage(reply, failure.status, renderDashboardMessagePage(fallback, failure.title, failure.message));
      }
    };
  }

  /** The same for JSON answers: {"error": {code, message}}. */
  function api(handler: (request: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply, dctx: DashboardContext) => Promise<unknown>) {
    return async (request: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply) => {
      try {
        const dctx = await dashboardContext(request);
        reply.header('cache-control', 'no-store');
        return await handler(request, reply, dctx);
      } catch (error) {
        const failure = pageFailure(error);
        if (failure === null) throw error;
        return reply.status(failure.status).send({ error: { code: failure.code, message: failure.message } });
      }
    };
  }

  async function loadEpisode(dctx: DashboardContext, id: string | undefined): Promise<EpisodeView> {
    if (id === undefined || !EPISODE_ID_PATTERN.test(id)) throw new PageError(404, 'Episode not found', 'There is no such episode.');
    return ctx.service.getEpisode(dctx.tenant, id);
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

  async function listing(dctx: DashboardContext, cursor: string | undefined) {
    const page = await ctx.service.listEpisodes(dctx.tenant, { limit: LIST_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    return {
      items: page.items,
      cursor: page.cursor,
      options: {
        items: page.items,
        running: bus.running(dctx.tenant),
        nextHref: page.cursor ? dctx.href('/', { cursor: page.cursor }) : null,
        firstHref: cursor ? dctx.href('/') : null,
      },
    };
  }

  app.get('/', page(async (request, reply, dctx) => {
    const cursor = queryOf(request).cursor;
    const { options: list } = await listing(dctx, cursor);
    const apiUrl = dctx.href('/dashboard/api/episodes', cursor ? { cursor } : {});
    return sendPage(reply, 200, renderEpisodeListPage(dctx, { ...list, eventsUrl: dctx.href('/dashboard/events'), apiUrl }));
  }));

  app.get('/dashboard', async (request, reply) => reply.redirect(request.url.replace(/^\/dashboard\/?/, '/'), 302));

  app.get('/dashboard/api/episodes', api(async (request, _reply, dctx) => {
    const cursor = queryOf(request).cursor;
    const { items, cursor: next, options: list } = await listing(dctx, cursor);
    return { tenant: dctx.tenant, items, cursor: next, running: [...list.running], html: renderEpisodeListTable(dctx, list).value };
  }));

  app.get('/dashboard/episodes/:id', page(async (request, reply, dctx) => {
    const view = await loadEpisode(dctx, request.params.id);
    const report = episodeReportFromView(view);
    return sendPage(reply, 200, renderDashboardEpisodePage(dctx, report, episodeUrls(dctx, view.episode_id)));
  }));

  app.get('/dashboard/api/episodes/:id', api(async (request, _reply, dctx) => {
    const view = await loadEpisode(dctx, request.params.id);
    const report = episodeReportFromView(view);
    return { report, overview: renderEpisodeOverview(report).value, details: renderEpisodeDetails(report).value };
  }));

  app.get('/dashboard/episodes/:id/report.json', api(async (request, reply, dctx) => {
    const view = await loadEpisode(dctx, request.params.id);
    reply.header('content-disposition', `inline; filename="${fileName(view.episode_id)}.json"`);
    return episodeReportFromView(view);
  }));

  app.get('/dashboard/episodes/:id/report.html', page(async (request, reply, dctx) => {
    const view = await loadEpisode(dctx, request.params.id);
    const html = renderEpisodeReportHtml(episodeReportFromView(view));
    reply.header('content-disposition', `attachment; filename="${fileName(view.episode_id)}.html"`);
    return sendPage(reply, 200, html);
  }));

  app.get('/dashboard/leaderboard', page(async (_request, reply, dctx) => {
    const views = await endedEpisodes(dctx.tenant);
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
      baselines: options.dashboardBaselines ?? {},
    });
    return sendPage(reply, 200, renderDashboardLeaderboardPage(dctx, input));
  }));

  async function endedEpisodes(tenant: TenantId): Promise<EpisodeView[]> {
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

  /** Server-sent events: `event: <type>`, `data: <json>`; comments keep the connection alive. */
  function stream(request: FastifyRequest, reply: FastifyReply, subscribe: (send: (event: DashboardEvent) => void) => () => void, initial: DashboardEvent[]) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    let id = 0;
    const send = (event: DashboardEvent) => {
      if (!res.writableEnded) res.write(`id: ${++id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    res.write('retry: 2000\n: connected\n\n');
    for (const event of initial) send(event);
    const unsubscribe = subscribe(send);
    const keepAlive = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
    }, KEEP_ALIVE_MS);
    keepAlive.unref();
    const close = () => {
      clearInterval(keepAlive);
      unsubscribe();
      closers.delete(end);
    };
    const end = () => {
      close();
      if (!res.writableEnded) res.end();
    };
    closers.add(end);
    request.raw.on('close', close);
    res.on('close', close);
  }

  app.get('/dashboard/events', api(async (request, reply, dctx) => {
    stream(request, reply, (send) => bus.subscribe({ tenant: dctx.tenant }, send), []);
    return reply;
  }));

  app.get('/dashboard/events/:id', api(async (request, reply, dctx) => {
    const view = await loadEpisode(dctx, request.params.id);
    stream(request, reply, (send) => bus.subscribe({ tenant: dctx.tenant, episodeId: view.episode_id }, send), bus.replay(dctx.tenant, view.episode_id));
    return reply;
  }));
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
