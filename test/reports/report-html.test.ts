import { createHash } from 'node:crypto';
import { buildEpisodeReport, renderEpisodeReportHtml, renderLeaderboardHtml, type EpisodeReport } from '../../layers/reports/src';
import { CLIENT_SCRIPT } from '../../layers/reports/generated/assets';
import { DIVERGED_SCRIPT, finalRecord, INJECTION, MAIN_SCRIPT } from './helpers';

function inlineScripts(page: string): string[] {
  return [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
}

function embeddedReport(page: string): unknown {
  const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(page);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]!);
}

async function injectedReport(): Promise<EpisodeReport> {
  const record = await finalRecord([
    { tool: 'configure_training', arguments: { optimizer: INJECTION } },
    { tool: INJECTION, arguments: { note: INJECTION } },
    { tool: 'configure_training', arguments: {} },
    { tool: 'run_epochs', arguments: { num_epochs: 3 } },
    { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3, [INJECTION]: 1 } },
  ]);
  return buildEpisodeReport({ record, episodeId: INJECTION, tenant: INJECTION, createdAt: INJECTION, updatedAt: null });
}

describe('episode report HTML', () => {
  it('is one self-contained document: no http(s) reference, one inline script allowed by its CSP hash, connect-src none', async () => {
    for (const script of [MAIN_SCRIPT, DIVERGED_SCRIPT]) {
      const page = renderEpisodeReportHtml(buildEpisodeReport({ record: await finalRecord(script), episodeId: 'ep-1', usage: { steps: 1, epochs_trained: 1, training_seconds: 1 } }));
      expect(page).not.toMatch(/https?:\/\//i);
      expect(page).not.toMatch(/<link\b|<iframe\b|<img\b|\bsrc=|@import|url\(/i);
      expect(page.startsWith('<!doctype html>')).toBe(true);
      const scripts = inlineScripts(page);
      expect(scripts).toEqual([CLIENT_SCRIPT]);
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)![1]!.replace(/&#39;/g, "'");
      const hash = createHash('sha256').update(CLIENT_SCRIPT, 'utf8').digest('base64');
      expect(csp).toContain(`script-src 'sha256-${hash}'`);
      expect(csp).toContain("connect-src 'none'");
      expect(csp).toContain("default-src 'none'");
    }
  });

  it('embeds the JSON twin, and shows the charts, best epoch, grade breakdown, timeline, configuration and usage', async () => {
    const report = buildEpisodeReport({ record: await finalRecord(MAIN_SCRIPT), episodeId: 'ep-1', usage: { steps: 11, epochs_trained: 20, training_seconds: 3.5 } });
    const page = renderEpisodeReportHtml(report);
    expect(embeddedReport(page)).toEqual(report);
    for (const kind of ['loss', 'accuracy', 'lr']) expect(page).toContain(`data-chart="${kind}"`);
    expect(page).toContain('Score breakdown');
    expect(page).toContain('id="timeline-heading"');
    expect(page).toContain('Per-epoch metrics of model 2');
    expect(page).toContain('(replaced)');
    expect(page).toContain('fresh model 2 (dropout changed)');
    expect(page).toContain('Steps executed');
    // One row per epoch in the accessible data table, the best one marked.
    expect(page.match(/<tr( class="best")?><th scope="row" class="num">/g)).toHaveLength(report.epochs.length);
    expect(page).toContain(`<tr class="best"><th scope="row" class="num">${report.best!.epoch}</th>`);
    // Keyboard: the wide tables scroll in focusable regions named by their captions; a skip link.
    expect(page).toContain('role="region" tabindex="0" aria-labelledby="timeline-table-caption"');
    expect(page).toContain('<a class="skip-link" href="#main">');
    expect(page).toContain(':focus-visible');
  });

  it('escapes every user string (tool names, arguments, ids, error messages): nothing injected becomes markup', async () => {
    const report = await injectedReport();
    const page = renderEpisodeReportHtml(report);
    expect(inlineScripts(page)).toEqual([CLIENT_SCRIPT]);
    expect(page.match(/<script/g)).toHaveLength(2); // the JSON data and the chart code
    expect(page).not.toContain('<script>window.__pwned');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toMatch(/<[^>]*\sonerror=/i);
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    // The JSON twin carries the strings intact, yet cannot close its script element.
    expect(embeddedReport(page)).toEqual(report);
    expect(report.timeline[1]!.tool).toBe(INJECTION);
  });
});

describe('leaderboard HTML', () => {
  it('needs no script and escapes what the batch passes in', () => {
    const page = renderLeaderboardHtml({
      title: `Batch ${INJECTION}`,
      subtitle: INJECTION,
      generated_at: '2025-01-02T03:04:05Z',
      tasks: [
        {
          task_id: 'easy_mnist',
          baseline: { score: 0.5, val_accuracy: 0.93, label: INJECTION },
          entries: [
            { episode_id: INJECTION, agent: INJECTION, score: 0.7, val_accuracy: 0.95, epochs_used: 30, report_href: 'javascript:alert(1)' },
            { episode_id: 'b', agent: 'gpt', score: 0.4, val_accuracy: 0.9, epochs_used: 40, report_href: 'reports/b.html' },
          ],
        },
      ],
    });
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('javascript:');
    expect(page).toContain('<a href="reports/b.html">');
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain('script-src &#39;none&#39;');
  });
});
