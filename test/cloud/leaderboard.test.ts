import { baselineScoresFromEnv, CloudConfigError, defaultBaselineScores, DEFAULT_PRICES } from '../../layers/cloud/src/config';
import { buildReport, leaderboardInputOf, renderBatchLeaderboardHtml, type ReportEntry } from '../../layers/cloud/src/leaderboard';
import { escapeHtml } from '../../layers/reports/src/html';

const graded = (episode_id: string, score: number, accuracy: number, epochs: number, extra: Partial<ReportEntry> = {}): ReportEntry => ({
  tenant: 'tenant-1',
  episode_id,
  task_id: 'medium_fashion',
  status: 'graded',
  score,
  accuracy,
  epochs,
  steps: 5,
  ended: 'submitted',
  ended_at: '2031-01-01T00:00:00.000Z',
  cost_usd: 0.1,
  ...extra,
} as ReportEntry);

const REPORT_INPUT = {
  run_id: 'run"<1>',
  started_at: null,
  since: '2031-01-01T00:00:00.000Z',
  until: '2031-01-02T00:00:00.000Z',
  truncated: true,
  generated_at: '2031-01-02T00:00:01.000Z',
  prices: DEFAULT_PRICES,
  baselines: { medium_fashion: 0.75, easy_mnist: 0.9999 },
};

describe('leaderboard', () => {
  const report = buildReport({
    ...REPORT_INPUT,
    entries: [
      graded('b', 0.8, 0.85, 30, { agent: { policy: 'llm', model: 'gpt-4o-mini' } }),
      graded('a', 0.9, 0.8, 40, { agent: { policy: 'baseline' } }),
      graded('c', 0.8, 0.85, 20, { agent: { policy: 'llm', model: 'gpt-4o-mini' } }),
      graded('d', 0.7, 0.9, 10, { tenant: '<img src=x onerror=alert(1)>', status: 'grade_mismatch' } as Partial<ReportEntry>),
      { tenant: 'tenant-2', episode_id: 'e', task_id: 'easy_mnist', agent: { policy: 'baseline' }, status: 'not_ended', score: null } as ReportEntry,
      { tenant: "o'brien & co", episode_id: 'f', status: 'error', error: 'States.TaskFailed <b>' },
    ],
  });

  it('ranks per task: score, then accuracy, then fewer epochs', () => {
    expect(report.leaderboards.medium_fashion!.map((e) => [e.rank, e.episode_id])).toEqual([
      [1, 'a'],
      [2, 'c'],
      [3, 'b'],
      [4, 'd'],
    ]);
    expect(report.leaderboards.medium_fashion![3]!.grade_matches).toBe(false);
    expect(report.unranked.map((e) => e.episode_id)).toEqual(['e', 'f']);
    expect(report.counts).toEqual({ episodes: 6, graded: 3, grade_mismatch: 1, not_ended: 1, error: 1 });
    expect(report.baselines).toEqual({ medium_fashion: 0.75, easy_mnist: 0.9999 });
    expect(report.unranked_total).toBe(2);
  });

  it('summarises each task over all its ranked episodes, and each tenant over all its entries', () => {
    expect(report.tasks).toEqual({
      medium_fashion: {
        shown: 4,
        histogram: { graded: 4, bins: [0, 0, 0, 0, 0, 0, 0, 1, 2, 1].map((count, i) => ({ from: i / 10, to: (i + 1) / 10, count })) },
        stats: { episodes: 4, graded: 4, best: 0.9, median: 0.8, mean: expect.closeTo(0.8, 12) as number, above_baseline: 3 },
      },
    });
    expect(report.tenants).toEqual({
      'tenant-1': { episodes: 3, graded: 3, failed: 0, mean: expect.closeTo(2.5 / 3, 12) as number },
      '<img src=x onerror=alert(1)>': { episodes: 1, graded: 1, failed: 0, mean: 0.7 },
      'tenant-2': { episodes: 1, graded: 0, failed: 0, mean: null },
      "o'brien & co": { episodes: 1, graded: 0, failed: 1, mean: null },
    });
  });

  it('names each episode\'s agent (its label key; "unlabelled" without one) and summarises the agents per task', () => {
    expect(report.leaderboards.medium_fashion!.map((e) => [e.episode_id, e.agent])).toEqual([
      ['a', 'baseline'],
      ['c', 'llm gpt-4o-mini'],
      ['b', 'llm gpt-4o-mini'],
      ['d', 'unlabelled'],
    ]);
    expect(report.agents.medium_fashion!.map((a) => [a.rank, a.agent, a.episodes, a.mean, a.best, a.best_episode?.episode_id])).toEqual([
      [1, 'baseline', 1, 0.9, 0.9, 'a'],
      [2, 'llm gpt-4o-mini', 2, 0.8, 0.8, 'b'],
      [3, 'unlabelled', 1, 0.7, 0.7, 'd'],
    ]);
    // A label that does not parse (a report JSON edited by hand) counts as unlabelled.
    const damaged = buildReport({ ...REPORT_INPUT, entries: [graded('x', 0.5, 0.5, 1, { agent: { policy: 'llm', extra: '<b>' } } as Partial<ReportEntry>)] });
    expect(damaged.leaderboards.medium_fashion![0]!.agent).toBe('unlabelled');
  });

  it('maps onto the product leaderboard: per task, in the same order, with the baseline agent, the unranked after', () => {
    const input = leaderboardInputOf(report);
    const fashion = input.tasks.find((t) => t.task_id === 'medium_fashion')!;
    expect(fashion.baseline).toEqual({ score: 0.75, label: 'baseline agent' });
    expect(fashion.entries.map((e) => e.episode_id)).toEqual(['a', 'c', 'b', 'd']);
    expect(fashion.entries[0]).toMatchObject({ agent: 'baseline', tenant: 'tenant-1', score: 0.9, val_accuracy: 0.8, epochs_used: 40, steps: 5, cost_usd: 0.1, status: 'submitted' });
    expect(fashion.entries[3]!.status).toMatch(/grade mismatch/);
    // The figures over all the task's episodes come with it (the report's, not recomputed from the entries shown).
    expect(fashion.summary).toEqual({ stats: report.tasks.medium_fashion!.stats, histogram: report.tasks.medium_fashion!.histogram, agents: report.agents.medium_fashion });
    expect(input.tasks.find((t) => t.task_id === 'easy_mnist')!.summary).toBeUndefined();
    expect(input.unranked_total).toBe(2);
    // A task with a baseline and no episode is still shown (for reference); one with neither is not.
    expect(input.tasks.map((t) => [t.task_id, t.entries.length])).toEqual([
      ['easy_mnist', 0],
      ['medium_fashion', 4],
    ]);
    expect(input.unranked).toEqual([
      { episode_id: 'e', agent: 'baseline', tenant: 'tenant-2', task_id: 'easy_mnist', status: 'not_ended', detail: null },
      { episode_id: 'f', agent: 'unlabelled', tenant: "o'brien & co", task_id: null, status: 'error', detail: 'States.TaskFailed <b>' },
    ]);
  });

  it('is one self-contained page with every string escaped', () => {
    const html = renderBatchLeaderboardHtml(report);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1]!.replace(/&#39;/g, "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("connect-src 'none'");
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b|\bsrc="|@import|url\(/i);
    // Links only within the page (skip link, task navigation) and to the other grouping's page next to it.
    for (const [, href] of html.matchAll(/\bhref="([^"]*)"/g)) expect(href).toMatch(/^(#[\w-]+|leaderboard(-by-episode)?\.html)$/);
    expect(html).toContain(escapeHtml('<img src=x onerror=alert(1)>'));
    expect(html).toContain('run&quot;&lt;1&gt;');
    expect(html).toContain('o&#39;brien &amp; co');
    expect(html).toContain('States.TaskFailed &lt;b&gt;');
    expect(html).toMatch(/<h2 id="task-medium-fashion-heading">Fashion Item Classifier <small class="muted"><code>medium_fashion<\/code><\/small><\/h2>/);
    expect(html).toContain('truncated');
    expect(html).toContain('Not ranked');
  });

  it('by agent: per task the agents by mean score against the baseline agent, the episodes folded below', () => {
    const html = renderBatchLeaderboardHtml(report);
    const section = html.slice(html.indexOf('id="task-medium-fashion-heading"'), html.indexOf('id="unranked-heading"'));
    const agents = [...section.matchAll(/<tr><th scope="row" class="num">(\d+)<\/th><td>([^<]+)<\/td><td class="num">(\d+)<\/td>/g)].map((m) => [Number(m[1]), m[2], Number(m[3])]);
    expect(agents).toEqual([
      [1, 'baseline', 1],
      [2, 'llm gpt-4o-mini', 2],
      [3, 'unlabelled', 1],
    ]);
    expect(section).toContain('>Mean vs baseline agent</th>');
    expect(section).toContain('<details id="task-medium-fashion-episodes"><summary>Every episode ranked by score (4)</summary>');
    expect(html).toContain('<a href="leaderboard.html" aria-current="page">by agent</a> · <a href="leaderboard-by-episode.html">by episode</a>');
  });

  it('by episode: per task the ranking with agent, tenant, score, accuracy, epochs used and cost, the score distribution and the baseline', () => {
    const html = renderBatchLeaderboardHtml(report, 'episode');
    expect(html).not.toContain('agents ranked by mean score');
    const section = html.slice(html.indexOf('id="task-medium-fashion-heading"'), html.indexOf('id="unranked-heading"'));
    const rows = [...section.matchAll(/<tr><th scope="row" class="num">(\d+)<\/th><td><code>(\w+)<\/code><\/td>/g)].map((m) => [Number(m[1]), m[2]]);
    // The product's rule: equal score and accuracy share a rank (c and b), in the JSON's order.
    expect(rows).toEqual([
      [1, 'a'],
      [2, 'c'],
      [2, 'b'],
      [4, 'd'],
    ]);
    expect(section).toContain('<td><code>a</code></td><td>baseline</td><td><code>tenant-1</code></td>');
    for (const header of ['Agent', 'Tenant', 'Score', 'vs baseline agent', 'Best val acc.', 'Epochs used', 'Steps', 'Cost', 'Status']) expect(section).toContain(`>${header}</th>`);
    expect(section).toContain('<strong>0.9</strong>');
    expect(section).toContain('+0.15'); // a: 0.9 vs the baseline's 0.75
    expect(section).toContain('80.00%');
    expect(section).toContain('40 <small class="muted">/ 80</small>');
    expect(section).toContain('$0.10');
    expect(section).toContain('Score distribution of 4 graded episodes in bins of 0.1');
    expect(section).toContain('Baseline score 0.75 (dashed line)');
    expect(section).toContain('class="baseline-line"');
    expect(section).toContain('<dt>Baseline agent score</dt><dd>0.75</dd>');
    expect(section).toContain('grade mismatch');
    const mnist = html.slice(html.indexOf('id="task-easy-mnist-heading"'), html.indexOf('id="task-medium-fashion-heading"'));
    expect(mnist).toContain('No episode.');
    expect(mnist).toContain('0.9999');
  });
});

describe('BASELINE_SCORES', () => {
  it('defaults to the measured baseline-agent grades; a JSON object overrides per task, null removes one', () => {
    expect(baselineScoresFromEnv({})).toEqual({ easy_mnist: 0.9999, medium_fashion: 0.8506, hard_cifar: 0.9803 });
    expect(baselineScoresFromEnv({ BASELINE_SCORES: ' ' })).toEqual(defaultBaselineScores());
    expect(baselineScoresFromEnv({ BASELINE_SCORES: '{"hard_cifar": 0.5, "easy_mnist": null}' })).toEqual({ medium_fashion: 0.8506, hard_cifar: 0.5 });
  });

  it.each([
    ['not json', /BASELINE_SCORES is not valid JSON/],
    ['[0.5]', /must be a JSON object of scores by task/],
    ['{"imagenet": 0.5}', /unknown task "imagenet"/],
    ['{"easy_mnist": 1.5}', /easy_mnist needs a score from 0 to 1/],
    ['{"easy_mnist": "0.5"}', /easy_mnist needs a score from 0 to 1/],
  ])('refuses %p', (text, message) => {
    expect(() => baselineScoresFromEnv({ BASELINE_SCORES: text })).toThrow(CloudConfigError);
    expect(() => baselineScoresFromEnv({ BASELINE_SCORES: text })).toThrow(message);
  });
});
