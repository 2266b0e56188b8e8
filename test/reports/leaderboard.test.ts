import { buildLeaderboardInput, leaderboardEntryFromRecord, rankEntries, renderLeaderboardHtml, safeHref, scoreHistogram, taskStats, type LeaderboardEntry } from '../../layers/reports/src';
import { finalRecord, MAIN_SCRIPT } from './helpers';

const entry = (episode_id: string, score: number | null, val_accuracy: number | null, epochs_used: number | null): LeaderboardEntry => ({ episode_id, score, val_accuracy, epochs_used });

describe('leaderboard', () => {
  it('ranks by score, then accuracy, then fewer epochs; equal score and accuracy share a rank; ungraded last', () => {
    const ranked = rankEntries([
      entry('ungraded', null, 0.9, 10),
      entry('c', 0.5, 0.9, 30),
      entry('a', 0.8, 0.95, 50),
      entry('b2', 0.5, 0.9, 20),
      entry('d', 0.5, 0.85, 10),
      entry('top', 0.9, 0.97, 60),
    ]);
    expect(ranked.map((e) => [e.episode_id, e.rank])).toEqual([
      ['top', 1],
      ['a', 2],
      ['b2', 3],
      ['c', 3],
      ['d', 5],
      ['ungraded', null],
    ]);
  });

  it('bins scores by tenths (1 in the last bin) and summarises them against the baseline', () => {
    const entries = [entry('a', 0.0001, 0, 0), entry('b', 0.55, 0, 0), entry('c', 0.59, 0, 0), entry('d', 0.9999, 0, 0), entry('e', 1, 0, 0), entry('f', null, 0, 0)];
    const h = scoreHistogram(entries);
    expect(h.graded).toBe(5);
    expect(h.bins.map((b) => b.count)).toEqual([1, 0, 0, 0, 0, 2, 0, 0, 0, 2]);
    expect(taskStats(entries, { score: 0.56 })).toEqual({ episodes: 6, graded: 5, best: 1, median: 0.59, mean: (0.0001 + 0.55 + 0.59 + 0.9999 + 1) / 5, above_baseline: 3 });
    expect(taskStats([], null)).toMatchObject({ graded: 0, best: null, median: null, above_baseline: null });
  });

  it('builds its input from records, grouped by task in the tasks order, with baselines', async () => {
    const record = await finalRecord(MAIN_SCRIPT);
    const fromRecord = leaderboardEntryFromRecord({ episode_id: 'ep', record, usage: { steps: 11, epochs_trained: 20, training_seconds: 2 }, agent: 'scripted', cost_usd: 0.01 });
    expect(fromRecord).toMatchObject({ episode_id: 'ep', agent: 'scripted', status: 'submitted', score: record.grade!.score, val_accuracy: record.model.best_val_accuracy, epochs_used: 20, epoch_budget: 100, steps: 11, training_seconds: 2, cost_usd: 0.01 });
    const input = buildLeaderboardInput(
      [
        { task_id: 'hard_cifar', ...entry('h', 0.3, 0.5, 60) },
        { task_id: 'easy_mnist', ...fromRecord },
      ],
      { title: 'Batch', baselines: { easy_mnist: { score: 0.4 }, medium_fashion: { score: 0.6 } } },
    );
    expect(input.title).toBe('Batch');
    expect(input.tasks.map((t) => [t.task_id, t.entries.length, t.baseline?.score ?? null])).toEqual([
      ['easy_mnist', 1, 0.4],
      ['medium_fashion', 0, 0.6],
      ['hard_cifar', 1, null],
    ]);
    const page = renderLeaderboardHtml(input);
    expect(page).toContain('MNIST Digit Classifier');
    expect(page).toContain('class="baseline-line"');
    expect(page).toContain('Score distribution of 1 graded episode in bins of 0.1');
    expect(page).toContain('vs baseline');
  });

  it('a task may come with its figures over more episodes than it lists: the page shows those and says "top K of N"', () => {
    const top = [entry('best', 0.9, 0.9, 10), entry('second', 0.8, 0.9, 10)];
    const summary = {
      stats: { episodes: 10, graded: 9, best: 0.9, median: 0.4321, mean: 0.4, above_baseline: 3 },
      histogram: { graded: 9, bins: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0].map((count, i) => ({ from: i / 10, to: (i + 1) / 10, count })) },
      agents: [
        { agent: 'agent-one', rank: 1, episodes: 6, graded: 6, mean: 0.5, best: 0.9, best_episode: { episode_id: 'best', report_href: null } },
        { agent: 'agent-two', rank: 2, episodes: 4, graded: 3, mean: 0.3, best: 0.8, best_episode: { episode_id: 'second', report_href: null } },
      ],
    };
    const input = { tasks: [{ task_id: 'easy_mnist', baseline: { score: 0.5 }, entries: top, summary }], unranked: [{ episode_id: 'u1', status: 'error' }], unranked_total: 7 };
    const byAgent = renderLeaderboardHtml(input);
    expect(byAgent).toContain('<dt>Episodes</dt><dd>10 <small>9 graded</small></dd>');
    expect(byAgent).toContain('<dt>Agents</dt><dd>2</dd>');
    expect(byAgent).toContain('<dt>Median score</dt><dd>0.4321</dd>');
    expect(byAgent).toContain('<dt>Above baseline</dt><dd>3 <small>of 9</small></dd>');
    expect(byAgent).toContain('Score distribution of 9 graded episodes');
    expect(byAgent).toContain('<td>agent-two</td><td class="num">4 <small class="muted">(3 graded)</small></td>');
    expect(byAgent).toContain('<summary>The top 2 of 10 episodes ranked by score</summary>');
    expect(byAgent).toContain('MNIST Digit Classifier: the top 2 of 10 episodes ranked by score');
    expect(byAgent).toContain('<h2 id="unranked-heading">Not ranked <small class="muted">7</small></h2>');
    expect(byAgent).toContain('(the first 1 of 7)</caption>');
    // Figures over exactly the episodes listed: nothing is cut, nothing says so.
    const whole = renderLeaderboardHtml({ tasks: [{ ...input.tasks[0]!, summary: { ...summary, stats: { ...summary.stats, episodes: 2 } } }], unranked: input.unranked });
    expect(whole).toContain('<summary>Every episode ranked by score (2)</summary>');
    expect(whole).not.toMatch(/top 2 of|the first 1/);
  });

  it('links only relative paths and http(s) URLs', () => {
    expect(safeHref('reports/a.html')).toBe('reports/a.html');
    expect(safeHref('https://example.test/r.html')).toBe('https://example.test/r.html');
    expect(safeHref(' JavaScript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,x')).toBeNull();
    expect(safeHref('//evil.test/x')).toBeNull();
    expect(safeHref(null)).toBeNull();
  });
});
