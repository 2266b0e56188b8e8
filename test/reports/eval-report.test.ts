import { renderEvalReportHtml, type EvalReportData } from '../../layers/reports/src';
import { comparison, evalReportData } from './eval-report-fixture';
import { INJECTION } from './helpers';

function sections(page: string): Map<string, string> {
  const parts = page.split('<section class="eval-task"').slice(1);
  return new Map(parts.map((p) => [/data-task="([^"]+)"/.exec(p)![1]!, p.slice(0, p.indexOf('</section>'))]));
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

function embedded(page: string): unknown {
  const match = /<script type="application\/json" id="eval-data">([\s\S]*?)<\/script>/.exec(page);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]!);
}

const TWO_TASKS = evalReportData({
  agent: { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' },
  tasks: [
    { task_id: 'easy_mnist', seeds: [1, 2, 3, 4], comparisons: [comparison('default', 'above'), comparison('baseline', 'below')], cost: 0.0008, modelCost: 0.002 },
    { task_id: 'medium_fashion', max_epochs: 25, seeds: [1, 2, 3], failed: [2], comparisons: [comparison('baseline', 'includes-zero')], cost: 0.001, modelCost: 0.003 },
  ],
});

describe('eval report HTML', () => {
  it('is one self-contained document: no script to run (CSP script-src none), no request, the data embedded as JSON', () => {
    const page = renderEvalReportHtml(TWO_TASKS);
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).not.toMatch(/https?:\/\//i);
    expect(page).not.toMatch(/<link\b|<iframe\b|<img\b|\bsrc=|@import|url\(/i);
    expect(count(page, /<script>/)).toBe(0);
    expect(count(page, /<script\b/)).toBe(1);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)![1]!.replace(/&#39;/g, "'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("connect-src 'none'");
    expect(embedded(page)).toEqual(JSON.parse(JSON.stringify(TWO_TASKS)));
  });

  it('shows the agent label, environment, command and totals with costs and tokens', () => {
    const page = renderEvalReportHtml(TWO_TASKS);
    expect(page).toContain('Agent <strong class="agent-label">llm gpt-4o-mini @v3</strong>');
    expect(page).toContain('<title>Eval of baseline</title>');
    expect(page).toContain('ran in-process');
    expect(page).toContain('<code>ml-trainer eval --policy baseline --tasks easy_mnist --seeds 3 --out eval.html</code>');
    const totals = /<dl class="stats" id="totals">([\s\S]*?)<\/dl>/.exec(page)![1]!;
    expect(totals).toContain('<dt>Episodes</dt><dd>7 <small>2 tasks</small>');
    expect(totals).toContain('<dt>Wall time</dt><dd>2 min 6 s</dd>');
    expect(totals).toContain('<dt>Episodes per hour</dt><dd>200.8</dd>');
    expect(totals).toContain('<dt>Cost</dt><dd>$0.0062 <small>$0.0009 per episode</small>');
    expect(totals).toContain('<dt>Model cost (estimate)</dt><dd>$0.02 <small>$0.0024 per episode</small>');
    expect(totals).toContain('<dt>Prompt tokens</dt><dd>12345</dd>');
    expect(totals).toContain('<dt>Completion tokens</dt><dd>678</dd>');
  });

  it('draws every task: its summary, comparison rows, one dot per graded episode, one curve per episode with epochs, and a link per episode', () => {
    const page = renderEvalReportHtml(TWO_TASKS);
    const byTask = sections(page);
    expect([...byTask.keys()]).toEqual(['easy_mnist', 'medium_fashion']);
    expect(page).toContain('<nav aria-label="Tasks">');
    for (const task of TWO_TASKS.tasks) {
      const section = byTask.get(task.task_id)!;
      const graded = task.episodes.filter((e) => e.score !== null);
      expect(count(section, /<tr class="agent">/)).toBe(1);
      expect(count(section, /<tr class="comparison">/)).toBe(task.comparisons.length);
      expect(count(section, /<circle class="ep-dot"/)).toBe(graded.length);
      expect(count(section, /<polyline class="curve( failed)?"/)).toBe(task.episodes.length);
      expect(count(section, /class="mean-mark /)).toBe(1 + task.comparisons.length);
      for (const e of task.episodes) expect(section).toContain(`<a href="${e.report_href}"><code>${e.episode_id}</code></a>`);
      for (const e of graded) expect(section).toContain(`<title>seed ${e.seed} · score ${e.score}`);
    }
    const easy = byTask.get('easy_mnist')!;
    expect(easy).toContain('MNIST Digit Classifier');
    expect(easy).toMatch(/<th scope="row"><code>llm gpt-4o-mini @v3<\/code><\/th><td class="num">4<\/td><td class="num">0\.\d+ <small class="muted">\[0\.\d+, 0\.\d+\]<\/small>/);
    // The difference's interval decides the colour class, and its words say the same.
    expect(easy).toContain('<span class="diff above">+0.12 <small class="muted">[+0.05, +0.2]</small> <small class="verdict">higher</small>');
    expect(easy).toContain('<span class="diff below">−0.1 <small class="muted">[−0.18, −0.02]</small> <small class="verdict">lower</small>');
    expect(byTask.get('medium_fashion')!).toContain('<span class="diff includes-zero">+0.01 <small class="muted">[−0.04, +0.06]</small> <small class="verdict">no clear difference</small>');
    // The task's target as a dashed line on the curves; the episode budget beside the mean epochs.
    expect(count(easy, /class="target-line"/)).toBe(1);
    expect(byTask.get('medium_fashion')!).toContain('<small class="muted">/ 25</small>');
  });

  it('shows failed episodes: a notice, the error in the row, a dashed curve and no dot', () => {
    const section = sections(renderEvalReportHtml(TWO_TASKS)).get('medium_fashion')!;
    expect(section).toContain('1 of 3 episodes failed or ended without a grade');
    expect(count(section, /<tr class="failed">/)).toBe(1);
    expect(section).toContain('<span class="badge bad">failed</span>');
    expect(section).toContain('<td class="error-text">trainer crashed: out of memory</td>');
    expect(count(section, /<polyline class="curve failed"/)).toBe(1);
    expect(section).toContain('score none (failed)');
  });

  it('escapes every user string: agent label, episode ids, errors, links, command, environment, title', () => {
    const data = evalReportData({
      agent: { policy: '<script>window.__pwned=1</script>', model: INJECTION, version: '"><b>' },
      title: INJECTION,
      environment: INJECTION,
      command: `ml-trainer eval --policy '${INJECTION}'`,
      tasks: [{ task_id: INJECTION, seeds: [1, 2], failed: [2], error: INJECTION, episodeIdPrefix: INJECTION, comparisons: [comparison(INJECTION, 'above')] }],
    });
    const page = renderEvalReportHtml(data);
    expect(page).not.toContain('<script>window.__pwned');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>');
    expect(page).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    // Only the JSON data block is a script element, and its content cannot end it.
    expect(count(page, /<script\b/)).toBe(1);
    expect(count(page, /<\/script>/)).toBe(1);
    expect(embedded(page)).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('links only safe report addresses: none where report_href is null or a javascript: URL', () => {
    const data = evalReportData({ tasks: [{ task_id: 'easy_mnist', seeds: [1, 2], links: null }] });
    data.tasks[0]!.episodes[1]!.report_href = 'javascript:alert(1)';
    const page = renderEvalReportHtml(data);
    expect(count(sections(page).get('easy_mnist')!, /<a href=/)).toBe(0);
    expect(page).not.toContain('href="javascript:');
    expect(page).toContain('<td><code>ep-easy_mnist-1</code></td>');
  });

  it('one task, no comparisons, no costs: no task list, no reference marks, no cost or token figures', () => {
    const data = evalReportData({ tasks: [{ task_id: 'easy_mnist', seeds: [5] }] });
    const page = renderEvalReportHtml(data);
    const section = sections(page).get('easy_mnist')!;
    expect(page).not.toContain('<nav aria-label="Tasks">');
    expect(count(section, /<tr class="comparison">/)).toBe(0);
    expect(section).not.toContain('class="ci-band ref"');
    expect(section).not.toContain('references: mean and interval');
    expect(section).not.toContain('<th scope="col" class="num">Model cost</th>');
    expect(page).not.toMatch(/<dt>(Cost|Model cost \(estimate\)|Prompt tokens|Completion tokens)<\/dt>/);
    expect(count(section, /<circle class="ep-dot"/)).toBe(1);
    expect(count(section, /<polyline class="curve"/)).toBe(1);
  });

  it('a task with no episode, and one whose every episode failed without an epoch: no NaN, no curve, dashes instead of figures', () => {
    const data: EvalReportData = evalReportData({
      tasks: [
        { task_id: 'easy_mnist', seeds: [] },
        { task_id: 'hard_cifar', seeds: [1, 2], failed: [1, 2], noCurve: [1, 2] },
      ],
    });
    const page = renderEvalReportHtml(data);
    expect(page).not.toMatch(/NaN|undefined|Infinity/);
    const byTask = sections(page);
    expect(byTask.get('easy_mnist')!).toContain('<tr><td colspan="8">No episode.</td></tr>');
    const cifar = byTask.get('hard_cifar')!;
    expect(cifar).toContain('2 of 2 episodes failed');
    expect(count(cifar, /<polyline/)).toBe(0);
    expect(count(cifar, /<circle class="ep-dot"/)).toBe(0);
    expect(count(cifar, /class="mean-mark/)).toBe(0);
    expect(cifar).toMatch(/<tr class="agent"><th scope="row"><code>baseline<\/code><\/th><td class="num">2<\/td><td class="num">—<\/td>/);
  });

  it('a one-epoch curve is drawn as a dot, and no task at all says so', () => {
    const data = evalReportData({ tasks: [{ task_id: 'easy_mnist', seeds: [1], failed: [1] }] });
    data.tasks[0]!.episodes[0]!.val_accuracy = [0.5];
    const section = sections(renderEvalReportHtml(data)).get('easy_mnist')!;
    expect(count(section, /<circle class="curve-dot failed"/)).toBe(1);
    expect(renderEvalReportHtml({ ...data, tasks: [] })).toContain('<p>No task was evaluated.</p>');
  });
});
