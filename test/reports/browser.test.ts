import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { buildEpisodeReport, renderEpisodeReportHtml } from '../../layers/reports/src';
import { http, startServer, type RunningServer } from '../server/harness';
import { ARTIFACTS, describeBrowser, launchChromium, watch } from './chromium';
import { DIVERGED_SCRIPT, finalRecord, INJECTION, MAIN_SCRIPT, slowTrainerFactory } from './helpers';

/* The dashboard and the report in a real headless Chromium (see chromium.ts). */
const EPOCH_DELAY_MS = 200;
const LLM = { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' };
const LONG_REASON = `The validation loss has flattened.\n${'Lowering the learning rate should let it settle. '.repeat(8)}`.trim();
/** MAIN_SCRIPT with a short reason on step 1 and a long one (folded) on step 3. */
const REASONED = MAIN_SCRIPT.map((call, i) => (i === 0 ? { ...call, reason: 'A safe start.' } : i === 2 ? { ...call, reason: LONG_REASON } : call));
// Functions given to waitForFunction run in the page: they reach its document as (globalThis as any).document,
// since this project compiles without the DOM library.

async function storedServiceWithSlowTrainer(delayMs: number) {
  const { startLocalRuntime } = await import('../../layers/storage/src/local-runtime');
  const { StoredEpisodeService } = await import('../../layers/episodes/src/stored-episode-service');
  const runtime = await startLocalRuntime();
  const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: slowTrainerFactory(delayMs), logger: { warn: () => undefined } });
  return { service, close: () => runtime.close() };
}

describeBrowser('dashboard and report in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('the dashboard', () => {
    let stored: Awaited<ReturnType<typeof storedServiceWithSlowTrainer>>;
    let server: RunningServer;
    let context: BrowserContext;
    let id: string;

    const rest = (path: string, body?: unknown) => http(body === undefined ? 'GET' : 'POST', `${server.base}${path}`, body);

    beforeAll(async () => {
      stored = await storedServiceWithSlowTrainer(EPOCH_DELAY_MS);
      server = await startServer({ service: stored.service });
      id = (await rest('/v1/episodes', { task_id: 'easy_mnist', agent: LLM })).json.episode_id;
      await rest(`/v1/episodes/${id}/steps`, { tool: 'configure_training', arguments: { learning_rate: 0.001, lr_schedule: 'cosine' }, reason: LONG_REASON });
      await rest(`/v1/episodes/${id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 3 } });
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      // Only the server may be reached.
      await context.route((url) => !url.href.startsWith(server.base), (route) => route.abort());
    });
    afterAll(async () => {
      await context?.close();
      await server?.close();
      await stored?.close();
    });

    it('lists the episodes, opens one, and follows a step while it trains', async () => {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`${server.base}/`);
      await expect(page.title()).resolves.toBe('ml-trainer dashboard: episodes');
      const link = page.locator(`a[href="/dashboard/episodes/${id}"]`);
      await link.waitFor();
      await expect(page.locator('tr', { has: link }).locator('td').nth(2).textContent()).resolves.toBe('llm gpt-4o-mini @v3');
      await link.click();
      await page.waitForURL(`**/dashboard/episodes/${id}`);
      await page.waitForSelector('body[data-charts-ready="true"]');
      expect(await page.locator('.chart canvas').count()).toBe(3);
      expect(await page.getAttribute('body', 'data-chart-points')).toBe('3');
      await expect(page.locator('#episode-agent').textContent()).resolves.toContain('llm gpt-4o-mini @v3');
      // The step's long reason is folded; opened, it stays open across the live refreshes below.
      await page.click('#reason-step-1 > summary');
      expect(await page.locator('#reason-step-1').getAttribute('open')).toBe('');

      // Another client trains 6 epochs; the page shows them as they come (and, first, the agent's reason).
      await page.evaluate(`(() => {
        const status = document.getElementById('live-status');
        window.__statuses = [];
        new MutationObserver(() => window.__statuses.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
      })()`);
      let settled = false;
      const training = rest(`/v1/episodes/${id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 6 }, reason: 'More epochs while it improves.' }).finally(() => {
        settled = true;
      });
      await page.waitForFunction(() => Number((globalThis as any).document.body.dataset.chartPoints) >= 5, undefined, { timeout: 10_000 });
      expect(settled).toBe(false);
      await expect(page.locator('#live-status').textContent()).resolves.toMatch(/run_epochs: epoch \d of 6 done, validation accuracy/);
      expect(await page.evaluate('window.__statuses')).toContain("Step running: run_epochs… The agent's reason: More epochs while it improves.");
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-episode-live.png'), fullPage: false });
      expect((await training).status).toBe(200);

      // When the step ends, the page fetches the committed episode: tables and charts agree.
      await page.waitForFunction(() => (globalThis as any).document.querySelector('#timeline-table-caption')?.textContent?.includes('(3 of 15 steps)'), undefined, { timeout: 10_000 });
      await page.waitForFunction(() => (globalThis as any).document.body.dataset.chartPoints === '9');
      await expect(page.locator('#live-status').textContent()).resolves.toContain('Step 3 (run_epochs) done');
      expect(await page.locator('#reason-step-1').getAttribute('open')).toBe('');
      await expect(page.locator('#reason-step-1 .reason-text').isVisible()).resolves.toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-episode.png'), fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    });

    it('the episode list follows new episodes; the leaderboard renders', async () => {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`${server.base}/`);
      await page.waitForLoadState('networkidle').catch(() => undefined);
      const created = (await rest('/v1/episodes', { task_id: 'medium_fashion' })).json.episode_id as string;
      await page.locator(`a[href="/dashboard/episodes/${created}"]`).waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-list.png'), fullPage: true });

      await rest(`/v1/episodes/${created}/steps`, { tool: 'configure_training', arguments: { dropout: 0.2 } });
      await rest(`/v1/episodes/${created}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 2 } });
      await rest(`/v1/episodes/${created}/steps`, { tool: 'submit_model', arguments: {} });
      await page.getByRole('link', { name: 'Leaderboard' }).click();
      await page.waitForURL('**/dashboard/leaderboard');
      await expect(page.locator('h2').first().textContent()).resolves.toContain('Fashion Item Classifier');
      await expect(page.locator('#task-medium-fashion-agents-caption').textContent()).resolves.toContain('agents ranked by mean score');
      await page.getByRole('link', { name: 'by episode' }).click();
      await page.waitForURL('**/dashboard/leaderboard?group=episode');
      await expect(page.locator('#task-medium-fashion-table-caption').isVisible()).resolves.toBe(true);
      expect(await page.locator('#leaderboard-grouping a[aria-current="page"]').textContent()).toBe('by episode');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-leaderboard.png'), fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    });
  });

  describe('a report file', () => {
    async function openOffline(file: string, viewport: { width: number; height: number }) {
      const context = await browser.newContext({ viewport });
      await context.setOffline(true);
      const requests: string[] = [];
      await context.route('**', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-charts-ready="true"]');
      return { context, page, problems, requests };
    }

    it('opens from disk with the network off and draws its charts', async () => {
      const file = join(ARTIFACTS, 'report.html');
      const report = buildEpisodeReport({ record: await finalRecord(REASONED, 'easy_mnist', LLM), episodeId: 'ep-demo', usage: { steps: 11, epochs_trained: 20, training_seconds: 6.4 } });
      await writeFile(file, renderEpisodeReportHtml(report));
      const { context, page, problems, requests } = await openOffline(file, { width: 1280, height: 900 });
      try {
        for (const kind of ['loss', 'accuracy', 'lr']) {
          const canvas = page.locator(`[data-chart="${kind}"] canvas`);
          expect(await canvas.count()).toBe(1);
          const box = await canvas.boundingBox();
          expect(box!.width).toBeGreaterThan(300);
          expect(box!.height).toBeGreaterThan(100);
        }
        expect(await page.getAttribute('body', 'data-chart-points')).toBe(String(report.epochs.length));
        // Something was drawn: the canvas is not blank.
        const inked = await page.evaluate<number>(`(() => {
          const canvas = document.querySelector('[data-chart="loss"] canvas');
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
          return n;
        })()`);
        expect(inked).toBeGreaterThan(1000);
        await page.screenshot({ path: join(ARTIFACTS, 'report-desktop.png'), fullPage: true });

        // Keyboard: the skip link comes first; the data table opens from its summary.
        await page.keyboard.press('Tab');
        expect(await page.evaluate('document.activeElement?.className')).toBe('skip-link');
        await page.focus('#epochs-details > summary');
        await page.keyboard.press('Enter');
        expect(await page.locator('#epochs-details').getAttribute('open')).toBe('');
        expect(await page.locator('#epochs-table-caption').isVisible()).toBe(true);
        // The agent in the header; a long reason opens from its summary, a short one is shown as is.
        await expect(page.locator('#episode-agent').textContent()).resolves.toContain('llm gpt-4o-mini @v3');
        await expect(page.locator('td.reason').first().textContent()).resolves.toBe('A safe start.');
        expect(await page.locator('#reason-step-3 .reason-text').isVisible()).toBe(false);
        await page.focus('#reason-step-3 > summary');
        await page.keyboard.press('Enter');
        expect(await page.locator('#reason-step-3 .reason-text').isVisible()).toBe(true);

        // A phone.
        await page.setViewportSize({ width: 390, height: 844 });
        await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-chart="loss"] canvas').getBoundingClientRect().width < 390);
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow).toBeLessThanOrEqual(0);
        await page.screenshot({ path: join(ARTIFACTS, 'report-phone.png'), fullPage: true });

        expect(requests).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('runs no injected markup, and draws a diverged run', async () => {
      const record = await finalRecord([{ tool: INJECTION, arguments: { x: INJECTION }, reason: INJECTION }, ...DIVERGED_SCRIPT], 'easy_mnist', { policy: 'x', model: INJECTION });
      const file = join(ARTIFACTS, 'report-diverged-injected.html');
      await writeFile(file, renderEpisodeReportHtml(buildEpisodeReport({ record, episodeId: INJECTION })));
      const { context, page, problems, requests } = await openOffline(file, { width: 1024, height: 800 });
      try {
        expect(await page.evaluate('window.__pwned')).toBeUndefined();
        expect(await page.locator('img').count()).toBe(0);
        expect(await page.locator('.chart canvas').count()).toBe(3);
        await expect(page.locator('h1').textContent()).resolves.toContain('MNIST');
        await expect(page.locator('.notice.bad').textContent()).resolves.toContain('Training diverged in epoch 4');
        expect(requests).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });
  });
});
