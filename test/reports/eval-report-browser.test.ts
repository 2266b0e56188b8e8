import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { renderEvalReportHtml, type EvalReportData } from '../../layers/reports/src';
import { ARTIFACTS, describeBrowser, launchChromium, watch } from './chromium';
import { comparison, evalReportData } from './eval-report-fixture';
import { INJECTION } from './helpers';

/* The eval report file in headless Chromium, offline: it draws its SVGs, runs no script and logs no error. */

const DATA: EvalReportData = evalReportData({
  agent: { policy: '<script>window.__pwned=1</script>', model: INJECTION, version: 'v1' },
  tasks: [
    { task_id: 'easy_mnist', seeds: [1, 2, 3, 4, 5], comparisons: [comparison('default', 'above', 5), comparison('baseline', 'includes-zero', 5)], cost: 0.0007 },
    { task_id: 'hard_cifar', max_epochs: 30, seeds: [1, 2, 3], failed: [3], error: INJECTION, comparisons: [comparison('baseline', 'below')], cost: 0.012 },
  ],
});

describeBrowser('eval report in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function openOffline(name: string, page: string, viewport = { width: 1280, height: 900 }) {
    const file = join(ARTIFACTS, name);
    await writeFile(file, page);
    const context = await browser.newContext({ viewport });
    await context.setOffline(true);
    const requests: string[] = [];
    await context.route('**', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const tab = await context.newPage();
    const problems = watch(tab);
    await tab.goto(`file://${file}`, { waitUntil: 'load' });
    return { context, tab, problems, requests };
  }

  it('renders from disk with the network off: no console error, every curve and dot drawn, injected markup inert', async () => {
    const { context, tab, problems, requests } = await openOffline('eval-report.html', renderEvalReportHtml(DATA));
    try {
      for (const task of DATA.tasks) {
        const section = tab.locator(`section[data-task="${task.task_id}"]`);
        const curves = section.locator('svg.curves polyline.curve');
        expect(await curves.count()).toBe(task.episodes.filter((e) => e.val_accuracy.length > 0).length);
        expect(await section.locator('svg.strip circle.ep-dot').count()).toBe(task.episodes.filter((e) => e.score !== null).length);
        expect(await section.locator('svg.strip .mean-mark').count()).toBe(1 + task.comparisons.length);
        expect(await section.locator('tr.comparison').count()).toBe(task.comparisons.length);
        // Drawn at a readable size, each line with as many vertices as the episode has epochs.
        for (const kind of ['strip', 'curves']) {
          const box = await section.locator(`svg.${kind}`).boundingBox();
          expect(box!.width).toBeGreaterThan(300);
          expect(box!.height).toBeGreaterThan(kind === 'strip' ? 50 : 150);
        }
        const vertices = await curves.evaluateAll((lines) => lines.map((l) => (l as any).points.numberOfItems as number));
        expect(vertices).toEqual(task.episodes.filter((e) => e.val_accuracy.length > 0).map((e) => e.val_accuracy.length));
        const firstTitle = await section.locator('svg.curves g.episode-curve > title').first().textContent();
        expect(firstTitle).toContain(`seed ${task.episodes[0]!.seed} · score`);
        expect(await section.locator('a[href^="episodes/"]').count()).toBe(task.episodes.length);
      }
      expect(await tab.evaluate('window.__pwned')).toBeUndefined();
      expect(await tab.locator('img').count()).toBe(0);
      await expect(tab.locator('.agent-label').textContent()).resolves.toContain('<script>window.__pwned=1</script>');
      await expect(tab.locator('section[data-task="hard_cifar"] tr.failed td.error-text').textContent()).resolves.toBe(INJECTION);
      await expect(tab.locator('section[data-task="easy_mnist"] .diff.above').count()).resolves.toBe(1);
      await tab.screenshot({ path: join(ARTIFACTS, 'eval-report-desktop.png'), fullPage: true });

      // A phone: the page does not scroll sideways (wide tables scroll in their own regions).
      await tab.setViewportSize({ width: 390, height: 844 });
      const overflow = await tab.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      await tab.screenshot({ path: join(ARTIFACTS, 'eval-report-phone.png'), fullPage: true });

      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the check can fail: a script smuggled into the page is refused by its CSP and reported', async () => {
    const tampered = renderEvalReportHtml(DATA).replace('</main>', '<script>window.__pwned=3</script></main>');
    const { context, tab, problems } = await openOffline('eval-report-tampered.html', tampered);
    try {
      expect(await tab.evaluate('window.__pwned')).toBeUndefined();
      expect(problems.join('\n')).toMatch(/Content Security Policy/);
    } finally {
      await context.close();
    }
  });
});
