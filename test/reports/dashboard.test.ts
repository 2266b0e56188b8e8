import type { AddressInfo } from 'node:net';
import { createServer } from '../../layers/server/src';
import type { EpisodeService } from '../../layers/episodes/src/episode-service';
import { InMemoryEpisodeService } from '../server/in-memory-episode-service';
import { http, startServer, startStoredService, type RunningServer } from '../server/harness';
import { INJECTION, MAIN_SCRIPT, slowTrainerFactory } from './helpers';
import { openSse } from './sse-client';

async function createEpisode(server: RunningServer, taskId = 'easy_mnist', tenant = 'local'): Promise<string> {
  const created = await http('POST', `${server.base}/v1/episodes`, { task_id: taskId }, { 'x-tenant-id': tenant });
  expect(created.status).toBe(201);
  return created.json.episode_id as string;
}

async function step(server: RunningServer, id: string, tool: string, args: Record<string, unknown> = {}, tenant = 'local') {
  return http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool, arguments: args }, { 'x-tenant-id': tenant });
}

describe('dashboard over the stored service', () => {
  let stored: { service: EpisodeService; close(): Promise<void> };
  let server: RunningServer;
  let id: string;

  beforeAll(async () => {
    stored = await startStoredService();
    server = await startServer({ service: stored.service });
    id = await createEpisode(server);
    for (const call of MAIN_SCRIPT.slice(0, 5)) await step(server, id, call.tool, call.arguments as Record<string, unknown>);
  });
  afterAll(async () => {
    await server.close();
    await stored.close();
  });

  it('GET / lists the episodes of the local tenant as HTML, with a strict CSP', async () => {
    const page = await http('GET', `${server.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*connect-src 'self'.*frame-ancestors 'none'/);
    expect(page.text).toContain(`href="/dashboard/episodes/${id}"`);
    expect(page.text).toContain('MNIST Digit Classifier');
    expect(page.text).toContain('data-list-events="/dashboard/events"');
    expect(page.text).toContain('name="tenant" value="local"');
    const api = await http('GET', `${server.base}/dashboard/api/episodes`);
    expect(api.json.items.map((e: { episode_id: string }) => e.episode_id)).toContain(id);
    expect(api.json.html).toContain(`/dashboard/episodes/${id}`);
  });

  it('the episode page has the report, its live URLs and download links; the API gives the report and fragments', async () => {
    const page = await http('GET', `${server.base}/dashboard/episodes/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`data-live-events="/dashboard/events/${id}"`);
    expect(page.text).toContain(`href="/dashboard/episodes/${id}/report.html" download`);
    expect(page.text).toContain('data-chart="loss"');
    const api = await http('GET', `${server.base}/dashboard/api/episodes/${id}`);
    expect(api.status).toBe(200);
    expect(api.json.report.episode_id).toBe(id);
    expect(api.json.report.epochs).toHaveLength(9);
    expect(api.json.overview).toContain('Best val accuracy');
    expect(api.json.details).toContain('Timeline');
    const json = await http('GET', `${server.base}/dashboard/episodes/${id}/report.json`);
    expect(json.json).toEqual(api.json.report);
    const file = await http('GET', `${server.base}/dashboard/episodes/${id}/report.html`);
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="episode-${id}.html"`);
    expect(file.text).not.toMatch(/https?:\/\//);
    expect(file.text).not.toContain('data-live-events');
  });

  it('unknown episodes are a 404 page; an invalid tenant a 400; another tenant sees none of ours', async () => {
    const missing = await http('GET', `${server.base}/dashboard/episodes/nope`);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('Episode not found');
    expect((await http('GET', `${server.base}/dashboard/api/episodes/nope`)).json).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    expect((await http('GET', `${server.base}/?tenant=${encodeURIComponent('<bad>')}`)).status).toBe(400);
    const other = await http('GET', `${server.base}/?tenant=someone-else`);
    expect(other.status).toBe(200);
    expect(other.text).not.toContain(id);
    expect(other.text).toContain('Episodes of tenant someone-else');
    expect((await http('GET', `${server.base}/dashboard/episodes/${id}?tenant=someone-else`)).status).toBe(404);
    // The tenant travels in the links of the other tenant's pages.
    const theirs = await createEpisode(server, 'easy_mnist', 'someone-else');
    const list = await http('GET', `${server.base}/?tenant=someone-else`);
    expect(list.text).toContain(`href="/dashboard/episodes/${theirs}?tenant=someone-else"`);
    expect(list.text).toContain('data-list-events="/dashboard/events?tenant=someone-else"');
  });

  it('streams the epochs of a step that another client executes, then the step end; other tenants hear nothing', async () => {
    const events = await openSse(`${server.base}/dashboard/events/${id}`);
    const tenantEvents = await openSse(`${server.base}/dashboard/events`);
    const otherTenant = await openSse(`${server.base}/dashboard/events?tenant=someone-else`);
    try {
      expect(events.status).toBe(200);
      expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const result = await step(server, id, 'run_epochs', { num_epochs: 3 });
      expect(result.status).toBe(200);
      const ended = await events.waitFor('step_ended');
      expect(ended.data).toMatchObject({ tenant: 'local', episode_id: id, tool: 'run_epochs', ok: true, step: 6, done: false, error_code: null });
      const epochs = events.events.filter((e) => e.event === 'epoch');
      expect(epochs.map((e) => [e.data.progress.index, e.data.progress.total, e.data.progress.epoch])).toEqual([
        [1, 3, 10],
        [2, 3, 11],
        [3, 3, 12],
      ]);
      expect(events.events.map((e) => e.event)).toEqual(['step_started', 'epoch', 'epoch', 'epoch', 'step_ended']);
      await tenantEvents.waitFor('step_ended');
      expect(otherTenant.events).toEqual([]);
    } finally {
      events.close();
      tenantEvents.close();
      otherTenant.close();
    }
  });

  it('the leaderboard ranks ended episodes per task', async () => {
    const ended = await createEpisode(server);
    await step(server, ended, 'configure_training', {});
    await step(server, ended, 'run_epochs', { num_epochs: 4 });
    await step(server, ended, 'submit_model');
    const page = await http('GET', `${server.base}/dashboard/leaderboard`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="/dashboard/episodes/${ended}"`);
    expect(page.text).not.toContain(`/dashboard/episodes/${id}"`); // still running
    expect(page.text).toContain('Score distribution of 1 graded episode');
    expect(page.text).toContain('aria-current="page">Leaderboard');
  });
});

describe('dashboard details', () => {
  it('escapes what agents send on the episode page', async () => {
    const server = await startServer({ service: new InMemoryEpisodeService() });
    try {
      const id = await createEpisode(server);
      await step(server, id, 'configure_training', { optimizer: INJECTION });
      await step(server, id, 'configure_training', { [INJECTION]: 1 });
      const page = await http('GET', `${server.base}/dashboard/episodes/${id}`);
      expect(page.text).not.toContain('<script>window.__pwned');
      expect(page.text).not.toContain('<img src=x');
      expect(page.text.match(/<script/g)).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('a diverged epoch streams with a null loss (never NaN on the wire)', async () => {
    const server = await startServer({ service: new InMemoryEpisodeService() });
    try {
      const id = await createEpisode(server);
      await step(server, id, 'configure_training', { learning_rate: 6 });
      const events = await openSse(`${server.base}/dashboard/events/${id}`);
      await step(server, id, 'run_epochs', { num_epochs: 2 });
      const epoch = await events.waitFor('epoch');
      expect(epoch.raw).not.toMatch(/NaN|Infinity/);
      expect(epoch.data.progress).toMatchObject({ diverged: true, train_loss: null, val_loss: null });
      events.close();
    } finally {
      await server.close();
    }
  });

  it('a late subscriber gets the epochs of the running step first; close() ends open streams', async () => {
    const stored = await startStoredServiceWithSlowTrainer(150);
    const server = await startServer({ service: stored.service });
    try {
      const id = await createEpisode(server);
      await step(server, id, 'configure_training', {});
      const running = step(server, id, 'run_epochs', { num_epochs: 4 });
      const early = await openSse(`${server.base}/dashboard/events/${id}`);
      await early.waitFor('epoch', (d) => d.progress.index === 2);
      early.close();
      const late = await openSse(`${server.base}/dashboard/events/${id}`);
      // Replayed: the start and the epochs so far, in order, before the live ones.
      const first = await late.waitFor('step_started');
      expect(first.data.tool).toBe('run_epochs');
      expect(late.events.filter((e) => e.event === 'epoch').map((e) => e.data.progress.index).slice(0, 2)).toEqual([1, 2]);
      await late.waitFor('step_ended');
      expect(late.events.filter((e) => e.event === 'epoch').map((e) => e.data.progress.index)).toEqual([1, 2, 3, 4]);
      expect((await running).status).toBe(200);
      const lingering = await openSse(`${server.base}/dashboard/events`);
      await server.close();
      await lingering.ended; // the server ended it: close() did not wait for the client
    } finally {
      await server.close();
      await stored.close();
    }
  });

  it('dashboard: false serves no dashboard', async () => {
    const app = createServer({ service: new InMemoryEpisodeService(), dashboard: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const server = { base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    try {
      expect((await http('GET', `${server.base}/`)).status).toBe(404);
      expect((await http('GET', `${server.base}/dashboard/events`)).status).toBe(404);
      expect((await http('GET', `${server.base}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

async function startStoredServiceWithSlowTrainer(delayMs: number) {
  const { startLocalRuntime } = await import('../../layers/storage/src/local-runtime');
  const { StoredEpisodeService } = await import('../../layers/episodes/src/stored-episode-service');
  const runtime = await startLocalRuntime();
  const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: slowTrainerFactory(delayMs), logger: { warn: () => undefined } });
  return { service, close: () => runtime.close() };
}

describe('dashboard: who played and why', () => {
  let stored: { service: EpisodeService; close(): Promise<void> };
  let server: RunningServer;
  const LLM = { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' };

  async function labelled(agent: Record<string, string> | null, epochs: number, reason?: string): Promise<string> {
    const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist', ...(agent ? { agent } : {}) }, { 'x-tenant-id': 'agents' });
    expect(created.status).toBe(201);
    const id = created.json.episode_id as string;
    const calls: [string, Record<string, unknown>][] = [['configure_training', {}], ['run_epochs', { num_epochs: epochs }], ['submit_model', {}]];
    for (const [tool, args] of calls) {
      const done = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool, arguments: args, ...(reason ? { reason: `${reason} (${tool})` } : {}) }, { 'x-tenant-id': 'agents' });
      expect(done.status).toBe(200);
    }
    return id;
  }

  let llmBest: string;
  let llmWorse: string;
  let anon: string;
  beforeAll(async () => {
    stored = await startStoredService();
    server = await startServer({ service: stored.service });
    llmBest = await labelled(LLM, 20, 'Train to the plateau');
    llmWorse = await labelled(LLM, 12);
    anon = await labelled(null, 16);
  });
  afterAll(async () => {
    await server.close();
    await stored.close();
  });

  it('the live list hears who plays a new episode, and why each step runs', async () => {
    const events = await openSse(`${server.base}/dashboard/events?tenant=agents`);
    try {
      const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist', agent: LLM }, { 'x-tenant-id': 'agents' });
      const heard = await events.waitFor('episode_created', (d) => d.episode_id === created.json.episode_id);
      expect(heard.data.agent).toEqual(LLM);
      const id = created.json.episode_id as string;
      await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'configure_training', arguments: {}, reason: 'Defaults first.' }, { 'x-tenant-id': 'agents' });
      await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'get_training_status', arguments: {} }, { 'x-tenant-id': 'agents' });
      await events.waitFor('step_started', (d) => d.episode_id === id && d.tool === 'get_training_status');
      const started = events.events.filter((e) => e.event === 'step_started' && e.data.episode_id === id);
      expect(started.map((e) => [e.data.tool, e.data.reason])).toEqual([
        ['configure_training', 'Defaults first.'],
        ['get_training_status', null],
      ]);
    } finally {
      events.close();
    }
  });

  it('the episode list has an agent column: the label key, "unlabelled" without one', async () => {
    const api = await http('GET', `${server.base}/dashboard/api/episodes?tenant=agents`);
    expect(api.status).toBe(200);
    expect(api.json.html).toContain('<th scope="col">Agent</th>');
    const row = (id: string) => (api.json.html as string).split('<tr>').find((r) => r.includes(`/dashboard/episodes/${id}?`))!;
    expect(row(llmBest)).toContain('<td>llm gpt-4o-mini @v3</td>');
    expect(row(anon)).toContain('<td><span class="muted">unlabelled</span></td>');
    expect(api.json.items.find((e: { episode_id: string }) => e.episode_id === llmBest).agent).toEqual(LLM);
  });

  it('the episode page names the agent and shows each step\'s reason in the timeline', async () => {
    const page = await http('GET', `${server.base}/dashboard/episodes/${llmBest}?tenant=agents`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Agent <strong class="agent-label">llm gpt-4o-mini @v3</strong>');
    expect(page.text).toContain('<span class="reason-text">Train to the plateau (run_epochs)</span>');
    const json = await http('GET', `${server.base}/dashboard/episodes/${llmBest}/report.json?tenant=agents`);
    expect(json.json.agent.key).toBe('llm gpt-4o-mini @v3');
    expect(json.json.timeline.map((t: { reason: string | null }) => t.reason)).toEqual(['configure_training', 'run_epochs', 'submit_model'].map((t) => `Train to the plateau (${t})`));
  });

  it('the leaderboard groups by agent by default (best episode linked), by episode with ?group=episode, and refuses other groupings', async () => {
    const byAgent = await http('GET', `${server.base}/dashboard/leaderboard?tenant=agents`);
    expect(byAgent.status).toBe(200);
    expect(byAgent.text).toContain('agents ranked by mean score');
    expect(byAgent.text).toMatch(new RegExp(`<td>llm gpt-4o-mini @v3</td><td class="num">2</td>[\\s\\S]*?<a href="/dashboard/episodes/${llmBest}\\?tenant=agents"><code>${llmBest}</code></a>`));
    expect(byAgent.text).toContain('<td>unlabelled</td><td class="num">1</td>');
    expect(byAgent.text).toContain('<a href="/dashboard/leaderboard?tenant=agents" aria-current="page">by agent</a>');
    expect(byAgent.text).toContain(`/dashboard/episodes/${llmWorse}?tenant=agents`); // every episode, folded below

    const byEpisode = await http('GET', `${server.base}/dashboard/leaderboard?tenant=agents&group=episode`);
    expect(byEpisode.status).toBe(200);
    expect(byEpisode.text).not.toContain('agents ranked by mean score');
    expect(byEpisode.text).toContain('episodes ranked by score');
    expect(byEpisode.text).toContain('<a href="/dashboard/leaderboard?tenant=agents&amp;group=episode" aria-current="page">by episode</a>');

    const refused = await http('GET', `${server.base}/dashboard/leaderboard?tenant=agents&group=tenant`);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('use group=agent (the default) or group=episode');
  });
});
