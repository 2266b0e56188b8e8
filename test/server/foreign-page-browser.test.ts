import { existsSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
import { http, startServer, type RunningServer } from './harness';

/*
 * Issue 12, row 3 in a real headless Chromium (Debian's /usr/bin/chromium, or
 * ML_TRAINER_CHROMIUM; skipped without it): a page of another site, and a page whose name
 * is re-pointed at 127.0.0.1 (DNS rebinding), try to drive the local server with what a
 * browser lets any page send. Nothing may reach the environment.
 */
const CHROMIUM = process.env.ML_TRAINER_CHROMIUM ?? '/usr/bin/chromium';
const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
const REBOUND = 'rebound.test';

/** Runs in the page: every way in a page has, each result as a string. */
const ATTACK = `
async function attack(base, wsBase) {
  const results = {};
  const body = (o) => ({ method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(o) });
  const tryFetch = async (name, url, init) => {
    try { const r = await fetch(url, init); results[name] = r.type === 'opaque' ? 'opaque' : String(r.status); }
    catch (e) { results[name] = 'failed'; }
  };
  await tryFetch('jsonrpc', base + '/mcp', body({ jsonrpc: '2.0', id: 1, method: 'openenv/session/create', params: { task_id: 'easy_mnist' } }));
  await tryFetch('reset', base + '/reset', body({}));
  await tryFetch('rest', base + '/v1/episodes', body({ task_id: 'easy_mnist' }));
  await tryFetch('restJson', base + '/v1/episodes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task_id: 'easy_mnist' }) });
  results.ws = await new Promise((resolve) => {
    const ws = new WebSocket(wsBase + '/ws');
    ws.onopen = () => { ws.send(JSON.stringify({ type: 'reset', data: {} })); };
    ws.onmessage = (m) => resolve('message: ' + String(m.data).slice(0, 40));
    ws.onerror = () => resolve('error');
    setTimeout(() => resolve('timeout'), 3000);
  });
  return results;
}`;

describeBrowser('a web page cannot drive the local server', () => {
  let browser: Browser;
  let context: BrowserContext;
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        // Chromium's own local-network protection would stop these requests before the server sees them: the server's checks are under test.
        '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights',
        `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
      ],
    });
    server = await startServer();
    port = Number(new URL(server.base).port);
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  async function episodesCreated(on: RunningServer = server): Promise<number> {
    return (await http('GET', `${on.base}/v1/episodes`)).json.items.length;
  }

  /** Another site's page (Playwright serves it; the name resolves nowhere else). */
  const FOREIGN_PAGE = 'http://attacker.test/attack';

  /** Serves the attack page at `pageUrl` (Playwright answers it; the page's own requests go to the network). */
  async function runAttack(pageUrl: string, base: string): Promise<Record<string, string>> {
    const page = await context.newPage();
    await page.route(pageUrl, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>attack</title><script>${ATTACK}</script>` }));
    await page.goto(pageUrl);
    const results = await page.evaluate(([b, w]) => (globalThis as any).attack(b, w), [base, base.replace(/^http/, 'ws')] as const);
    await page.close();
    return results as Record<string, string>;
  }

  it('a page of another site (a foreign Origin): no episode, no WebSocket session', async () => {
    const results = await runAttack(FOREIGN_PAGE, server.base);
    // no-cors requests are sent but unreadable: the server must refuse them itself.
    expect(results.ws).not.toMatch(/^message/);
    expect(results.restJson).toBe('failed');
    expect(await episodesCreated()).toBe(0);
  });

  it('a page on a name re-pointed at 127.0.0.1 (DNS rebinding, same origin to the browser): 403 everywhere', async () => {
    const base = `http://${REBOUND}:${port}`;
    const results = await runAttack(`${base}/attack`, base);
    expect(results.restJson).toBe('403');
    expect(results.ws).not.toMatch(/^message/);
    expect(await episodesCreated()).toBe(0);
  });

  it('control: with that origin and host allowed, the same pages do reach the environment', async () => {
    const open = await startServer({ allowedOrigins: ['http://attacker.test'], allowedHosts: [REBOUND] });
    try {
      const openPort = Number(new URL(open.base).port);
      const results = await runAttack(FOREIGN_PAGE, open.base);
      expect(results.ws).toMatch(/^message/);
      expect(await episodesCreated(open)).toBeGreaterThan(0);
      const rebound = await runAttack(`http://${REBOUND}:${openPort}/attack`, `http://${REBOUND}:${openPort}`);
      expect(rebound.restJson).toBe('201');
    } finally {
      await open.close();
    }
  });

  it('the server itself is still reachable from a page it serves', async () => {
    const page = await context.newPage();
    await page.goto(`${server.base}/`);
    const status = await page.evaluate(async () => (await fetch('/v1/tasks')).status);
    expect(status).toBe(200);
    await page.close();
  });
});
