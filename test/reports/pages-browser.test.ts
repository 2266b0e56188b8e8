import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildEpisodeReport, buildLeaderboardInput, measuredBaselines, renderEpisodeReportHtml, renderLeaderboardHtml, type LeaderboardEntry } from '../../layers/reports/src';
import { InMemoryEpisodeService } from '../server/in-memory-episode-service';
import { startServer } from '../server/harness';
import { ARTIFACTS, describeBrowser, launchChromium, watch } from './chromium';
import { finalRecord, MAIN_SCRIPT } from './helpers';

/* The page fixes of issue 15 as a newcomer sees them, in headless Chromium: geometry, wrapping and legends. Screenshots: test-artifacts/reports/pages-*.png. */

const LONG_CONFIG = { optimizer: 'adamw', learning_rate: 0.002, weight_decay: 0.0005, lr_schedule: 'warmup_cosine', warmup_epochs: 3, augmentation_strength: 0.35 };

/** The text boxes of the page's histogram labels that overlap, by their texts. */
async function overlappingLabels(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const hit = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    const found = [];
    for (const svg of document.querySelectorAll('svg.hist')) {
      const boxes = [...svg.querySelectorAll('text')].map((t) => ({ text: t.textContent, box: t.getBBox() }));
      boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => { if (hit(a.box, b.box)) found.push(a.text + ' / ' + b.text); }));
    }
    return found;
  })()`);
}

/** JSON tokens (strings, numbers, literals) in the timeline's arguments that the browser laid out over more than one line. */
async function splitTokens(page: Page): Promise<{ split: string[]; wrappedCells: number }> {
  return page.evaluate(`(() => {
    const split = [];
    let wrappedCells = 0;
    for (const code of document.querySelectorAll('td.args code')) {
      const lineHeight = parseFloat(getComputedStyle(code).lineHeight) || 20;
      if (code.getBoundingClientRect().height > lineHeight * 1.5) wrappedCells++;
      const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.data.matchAll(/"(?:[^"\\\\]|\\\\.)*"|-?\\d[\\d.eE+-]*|true|false|null/g)) {
          const range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          if (tops.size > 1) split.push(m[0]);
        }
      }
    }
    return { split, wrappedCells };
  })()`);
}

const legendText = (page: Page, kind: string) => page.locator(`[data-chart="${kind}"] .u-legend`).innerText();

/** Waits until a chart's legend reads `pattern` (uPlot redraws it on the next animation frame), then returns the text. */
async function legendReads(page: Page, kind: string, pattern: RegExp): Promise<string> {
  await page.waitForFunction(
    ([k, source]) => new RegExp(source).test((globalThis as any).document.querySelector(`[data-chart="${k}"] .u-legend`)?.innerText ?? ''),
    [kind, pattern.source] as const,
    { timeout: 5_000 },
  ).catch(() => undefined);
  return legendText(page, kind);
}

describeBrowser('the pages read well in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the leaderboard histogram: no label meets another (getBBox), with the tallest bar in the last bin', async () => {
    const graded = (episode_id: string, score: number): LeaderboardEntry & { task_id: string } => ({ task_id: 'easy_mnist', episode_id, score, val_accuracy: 0.97, epochs_used: 40 });
    const entries = [graded('a', 0.15), graded('b', 0.62), graded('c', 0.95), graded('d', 0.97), graded('e', 0.99), graded('f', 1)];
    const file = join(ARTIFACTS, 'pages-leaderboard.html');
    await writeFile(file, renderLeaderboardHtml(buildLeaderboardInput(entries, { baselines: measuredBaselines() })));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = watch(page);
    await page.goto(`file://${file}`);
    expect(await page.locator('#task-easy-mnist-heading ~ .grid2 svg.hist text').count()).toBe(3 + 6 + 1); // counts, ticks, axis title
    expect(await overlappingLabels(page)).toEqual([]);
    await expect(page.locator('.baseline-note').first().innerText()).resolves.toContain('the grade of the built-in baseline policy');
    await page.locator('section').first().screenshot({ path: join(ARTIFACTS, 'pages-leaderboard-task.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the episode report on a phone: arguments wrap between JSON tokens only; legends show the last epoch until hovered, and again after', async () => {
    const calls = [{ tool: 'configure_training', arguments: LONG_CONFIG }, ...MAIN_SCRIPT.slice(1)];
    const file = join(ARTIFACTS, 'pages-report.html');
    await writeFile(file, renderEpisodeReportHtml(buildEpisodeReport({ record: await finalRecord(calls, 'easy_mnist', { policy: 'baseline' }), episodeId: 'ep-narrow' })));
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const problems = watch(page);
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-charts-ready="true"]');

    const { split, wrappedCells } = await splitTokens(page);
    expect(wrappedCells).toBeGreaterThan(0); // the column is narrow enough to wrap at all
    expect(split).toEqual([]);
    await page.locator('[aria-labelledby="timeline-table-caption"]').screenshot({ path: join(ARTIFACTS, 'pages-timeline-phone.png') });

    // Not hovered: the last epoch's values (epoch 20 of this run), never "—".
    const idle = await legendText(page, 'accuracy');
    expect(idle).not.toContain('—');
    expect(idle).toMatch(/Epoch:?\s*20 \(last\)/);
    expect(idle).toMatch(/validation:?\s*\d+(\.\d)?%/);
    await expect(legendText(page, 'lr')).resolves.toMatch(/learning rate:?\s*8\.0e-4/);
    // Hovered: that epoch's; the cursor gone, the last epoch's again.
    await page.locator('[data-chart="accuracy"]').scrollIntoViewIfNeeded();
    const box = (await page.locator('[data-chart="accuracy"] .u-over').boundingBox())!;
    await page.mouse.move(box.x + 4, box.y + box.height / 2);
    await expect(legendReads(page, 'accuracy', /Epoch:?\s*10\s*train/)).resolves.toMatch(/Epoch:?\s*10\s*train:?\s*\d/);
    await page.mouse.move(1, 1);
    await expect(legendReads(page, 'accuracy', /\(last\)/)).resolves.toMatch(/Epoch:?\s*20 \(last\)/);
    await page.locator('#episode-overview').screenshot({ path: join(ARTIFACTS, 'pages-overview-phone.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the empty dashboard shows the command to run against this very server', async () => {
    const server = await startServer({ service: new InMemoryEpisodeService() });
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    try {
      const problems = watch(page);
      await page.goto(`${server.base}/`);
      await expect(page.locator('pre.command').innerText()).resolves.toBe(`npx ml-trainer agent --task easy_mnist --policy baseline --url ${server.base}`);
      await page.screenshot({ path: join(ARTIFACTS, 'pages-dashboard-empty.png') });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });
});
