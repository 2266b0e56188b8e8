import { agentLabelKey, type AgentLabel } from '../../layers/core/src';
import { BATCH_TOP_K, BATCH_UNRANKED_LIMIT, BatchReportBuilder, type BatchReport, type BatchReportMeta, type RankedEntry, type ReportEntry } from '../../layers/cloud/src/batch-report-builder';
import { DEFAULT_PRICES } from '../../layers/cloud/src/config';
import { buildReport, renderBatchLeaderboardHtml } from '../../layers/cloud/src/leaderboard';

const META: BatchReportMeta = {
  run_id: 'run-1',
  started_at: null,
  since: '2031-01-01T00:00:00.000Z',
  until: '2031-01-02T00:00:00.000Z',
  truncated: false,
  generated_at: '2031-01-02T00:00:01.000Z',
  prices: DEFAULT_PRICES,
};
const BASELINES = { medium_fashion: 0.6, easy_mnist: 0.9999 };
const TASKS = ['easy_mnist', 'medium_fashion', 'hard_cifar'];
const AGENTS: (AgentLabel | undefined)[] = [{ policy: 'baseline' }, { policy: 'llm', model: 'gpt-4o-mini' }, { policy: 'llm', model: 'gpt-4o-mini', version: 'v2' }, undefined];

/** A small deterministic generator (a linear congruential one), so that a failure can be replayed. */
function randomOf(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Entries of every kind: graded and mismatched ones on three tasks with ties at every level of the order, not ended, not found and failed ones, several tenants and agents. */
function entriesOf(seed: number, count: number): ReportEntry[] {
  const random = randomOf(seed);
  return Array.from({ length: count }, (_, i): ReportEntry => {
    const tenant = pick(random, ['tenant-a', 'tenant-b', 'tenant-c']);
    const episode_id = `ep-${seed}-${String(i).padStart(4, '0')}`;
    const agent = pick(random, AGENTS);
    const kind = random();
    if (kind < 0.08) return { tenant, episode_id, status: 'error', error: `failed ${i}`, ...(agent ? { agent } : {}) };
    const task_id = pick(random, TASKS);
    if (kind < 0.14) return { tenant, episode_id, task_id, status: pick(random, ['not_ended', 'not_found'] as const), score: null, ...(agent ? { agent } : {}) };
    return {
      tenant,
      episode_id,
      task_id,
      status: kind < 0.2 ? 'grade_mismatch' : 'graded',
      score: random() < 0.3 ? pick(random, [0.5, 0.6, 0.75]) : random(),
      accuracy: pick(random, [0.8, 0.85, random()]),
      epochs: pick(random, [10, 20, 30]),
      steps: 5,
      ended: pick(random, ['submitted', 'auto_submitted'] as const),
      ended_at: pick(random, ['2031-01-01T10:00:00.000Z', '2031-01-01T11:00:00.000Z']),
      cost_usd: 0.1,
      ...(agent ? { agent } : {}),
    };
  });
}

function built(entries: readonly ReportEntry[], options: { topK?: number; unrankedLimit?: number } = {}): { report: BatchReport; builder: BatchReportBuilder } {
  const builder = new BatchReportBuilder({ baselines: BASELINES, ...options });
  for (const entry of entries) builder.add(entry);
  return { report: builder.finish(META), builder };
}

// The straightforward computation from all the entries, written out here on its own.

type Graded = Exclude<ReportEntry, { status: 'error' }> & { task_id: string; score: number };
const isGraded = (e: ReportEntry): e is Graded => (e.status === 'graded' || e.status === 'grade_mismatch') && typeof e.score === 'number' && typeof e.task_id === 'string';
const byText = (a: string, b: string) => a.localeCompare(b);

/** The documented total order: score, accuracy (desc), epochs, end time, tenant, episode id (asc). */
function totalOrder(a: Graded, b: Graded): number {
  if (a.score !== b.score) return b.score - a.score;
  if ((a.accuracy ?? 0) !== (b.accuracy ?? 0)) return (b.accuracy ?? 0) - (a.accuracy ?? 0);
  if ((a.epochs ?? Infinity) !== (b.epochs ?? Infinity)) return (a.epochs ?? Infinity) - (b.epochs ?? Infinity);
  return byText(a.ended_at ?? '', b.ended_at ?? '') || byText(a.tenant, b.tenant) || byText(a.episode_id, b.episode_id);
}

function rankedRow(e: Graded, rank: number): RankedEntry {
  return {
    rank,
    tenant: e.tenant,
    episode_id: e.episode_id,
    agent: agentLabelKey(e.agent),
    score: e.score,
    accuracy: e.accuracy ?? null,
    epochs: e.epochs ?? null,
    steps: e.steps ?? null,
    ended: e.ended ?? null,
    ended_at: e.ended_at ?? null,
    cost_usd: e.cost_usd ?? null,
    grade_matches: e.status === 'graded',
  };
}

const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

function medianOf(scores: number[]): number | null {
  const s = [...scores].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function referenceTask(mine: Graded[], baseline: number | undefined, topK: number) {
  const scores = mine.map((e) => e.score);
  const counts = Array.from({ length: 10 }, () => 0);
  for (const s of scores) counts[Math.min(9, Math.floor(s * 10))]! += 1;
  const byAgent = new Map<string, Graded[]>();
  for (const e of mine) byAgent.set(agentLabelKey(e.agent), [...(byAgent.get(agentLabelKey(e.agent)) ?? []), e]);
  const standings = [...byAgent].map(([agent, list]) => {
    const best = [...list].sort((a, b) => b.score - a.score || byText(a.episode_id, b.episode_id))[0]!;
    return { agent, episodes: list.length, graded: list.length, mean: mean(list.map((e) => e.score))!, best: best.score, best_episode: { episode_id: best.episode_id, report_href: null } };
  });
  standings.sort((a, b) => b.mean - a.mean || b.best - a.best || b.graded - a.graded || (a.agent < b.agent ? -1 : 1));
  const ranks: number[] = [];
  standings.forEach((s, i) => ranks.push(i > 0 && standings[i - 1]!.mean === s.mean && standings[i - 1]!.best === s.best ? ranks[i - 1]! : i + 1));
  return {
    leaderboard: [...mine].sort(totalOrder).slice(0, topK).map((e, i) => rankedRow(e, i + 1)),
    summary: {
      shown: Math.min(topK, mine.length),
      histogram: { graded: scores.length, bins: counts.map((count, i) => ({ from: i / 10, to: (i + 1) / 10, count })) },
      stats: {
        episodes: mine.length,
        graded: scores.length,
        best: Math.max(...scores),
        median: medianOf(scores),
        mean: mean(scores),
        above_baseline: baseline === undefined ? null : scores.filter((s) => s > baseline).length,
      },
    },
    agents: standings.map((s, i) => ({ ...s, rank: ranks[i]! })),
  };
}

function reference(entries: readonly ReportEntry[], topK = BATCH_TOP_K): Omit<BatchReport, keyof BatchReportMeta | 'baselines'> {
  const counts: Record<string, number> = { episodes: entries.length };
  for (const e of entries) counts[e.status] = (counts[e.status] ?? 0) + 1;
  const graded = entries.filter(isGraded);
  const report: Omit<BatchReport, keyof BatchReportMeta | 'baselines'> = { counts, leaderboards: {}, tasks: {}, agents: {}, tenants: {}, unranked: [], unranked_total: 0 };
  for (const task of [...new Set(graded.map((e) => e.task_id))].sort()) {
    const r = referenceTask(
      graded.filter((e) => e.task_id === task),
      (BASELINES as Record<string, number>)[task],
      topK,
    );
    report.leaderboards[task] = r.leaderboard;
    report.tasks[task] = r.summary;
    report.agents[task] = r.agents;
  }
  for (const tenant of [...new Set(entries.map((e) => e.tenant))].sort()) {
    const mine = entries.filter((e) => e.tenant === tenant);
    const scores = mine.filter(isGraded).map((e) => e.score);
    report.tenants[tenant] = { episodes: mine.length, graded: scores.length, failed: mine.filter((e) => e.status === 'error').length, mean: mean(scores) };
  }
  const unranked = entries.filter((e) => !isGraded(e));
  return { ...report, unranked: unranked.slice(0, BATCH_UNRANKED_LIMIT), unranked_total: unranked.length };
}

/** Means summed in another order may differ in the last bits: compared to 12 decimals. */
function roundedMeans<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (key, v: unknown) => (key === 'mean' && typeof v === 'number' ? Number(v.toFixed(12)) : v)) as T;
}

describe('BatchReportBuilder', () => {
  it.each([1, 2, 3, 4, 5])('gives what the all-entries computation gives (seed %i): ranks, stats, histogram, agent standings, tenants, counts', (seed) => {
    const entries = entriesOf(seed, 160);
    const { report } = built(entries);
    const { run_id, started_at, since, until, truncated, generated_at, prices, baselines, ...figures } = report;
    expect({ run_id, started_at, since, until, truncated, generated_at, prices }).toEqual(META);
    expect(baselines).toEqual(BASELINES);
    expect(roundedMeans(figures)).toEqual(roundedMeans(reference(entries)));
    // Every kind of entry came: the comparison covers them.
    expect(Object.keys(report.counts).sort()).toEqual(['episodes', 'error', 'grade_mismatch', 'graded', 'not_ended', 'not_found']);
    expect(Object.keys(report.leaderboards)).toEqual([...TASKS].sort());
  });

  it('is what buildReport gives for the same entries, and finishing twice changes nothing', () => {
    const entries = entriesOf(6, 120);
    const { report, builder } = built(entries);
    expect(buildReport({ ...META, baselines: BASELINES, entries })).toEqual(report);
    expect(builder.finish(META)).toEqual(report);
  });

  it('keeps exactly the K best of N by the total order, whatever order they come in, with their ranks among all', () => {
    const entries = entriesOf(7, 3000);
    const graded = entries.filter(isGraded).filter((e) => e.task_id === 'hard_cifar');
    expect(graded.length).toBeGreaterThan(BATCH_TOP_K * 5);
    const best = [...graded].sort(totalOrder).slice(0, BATCH_TOP_K).map((e, i) => rankedRow(e, i + 1));
    for (const order of [entries, [...entries].reverse(), [...graded].sort(totalOrder), [...graded].sort(totalOrder).reverse()]) {
      const { report } = built(order);
      expect(report.leaderboards.hard_cifar).toEqual(best);
      expect(report.tasks.hard_cifar).toMatchObject({ shown: BATCH_TOP_K, stats: { episodes: graded.length, graded: graded.length } });
    }
    const { report } = built(entries, { topK: 7 });
    expect(report.leaderboards.hard_cifar).toEqual(best.slice(0, 7));
    expect(report.tasks.hard_cifar!.shown).toBe(7);
  });

  describe('median', () => {
    const medianOfScores = (scores: number[]) => {
      const builder = new BatchReportBuilder();
      scores.forEach((score, i) => builder.add({ tenant: 't', episode_id: `e${i}`, task_id: 'easy_mnist', status: 'graded', score }));
      return builder.finish(META).tasks.easy_mnist!.stats.median;
    };

    it('is exact where each middle score is alone in its 1e-4 bin, or the lowest or highest of it', () => {
      expect(medianOfScores([0.3, 0.1, 0.2])).toBe(0.2);
      expect(medianOfScores([0.4, 0.1, 0.3, 0.2])).toBe((0.2 + 0.3) / 2);
      expect(medianOfScores([0.0001, 0.9999, 0.9999])).toBe(0.9999);
      // 0.50001 and 0.50004 share the bin around 0.5: the middle one is its highest, then its lowest.
      expect(medianOfScores([0.50001, 0.9, 0.50004])).toBe(0.50004);
      expect(medianOfScores([0.50001, 0.1, 0.50004])).toBe(0.50001);
      // Scores on a 1e-4 grid (each bin one distinct score), many of them.
      const grid = Array.from({ length: 20_001 }, (_, i) => ((i * 7919) % 10_000) / 10_000);
      expect(medianOfScores(grid)).toBe(medianOf(grid));
    });

    it('is otherwise the midpoint of its bin\'s lowest and highest score, less than 0.5e-4 from the exact median', () => {
      // Three distinct scores in the bin around 0.5, the median the middle one: 0.50002 exactly, the midpoint 0.500025.
      const approx = medianOfScores([0.50001, 0.50002, 0.50004]);
      expect(approx).toBe((0.50001 + 0.50004) / 2);
      expect(Math.abs(approx! - 0.50002)).toBeLessThan(0.5e-4);
      const random = randomOf(8);
      const scores = Array.from({ length: 100_001 }, () => random());
      expect(Math.abs(medianOfScores(scores)! - medianOf(scores)!)).toBeLessThan(0.5e-4);
    });
  });

  it('holds a bounded number of entries however many come: 200,000 streamed through add', () => {
    const topK = BATCH_TOP_K;
    const builder = new BatchReportBuilder({ baselines: BASELINES });
    const random = randomOf(9);
    const bound = TASKS.length * topK + BATCH_UNRANKED_LIMIT;
    let mostHeld = 0;
    let failed = 0;
    for (let i = 0; i < 200_000; i++) {
      const tenant = `tenant-${i % 50}`;
      if (i % 40 === 0) {
        failed += 1;
        builder.add({ tenant, episode_id: `e${i}`, status: 'error', error: 'States.TaskFailed' });
      } else {
        builder.add({ tenant, episode_id: `e${i}`, task_id: TASKS[i % 3]!, status: 'graded', score: random(), accuracy: random(), epochs: 10, agent: AGENTS[Math.floor(i / 3) % 3] });
      }
      if (i % 1000 === 0) mostHeld = Math.max(mostHeld, builder.retainedEntries);
    }
    expect(mostHeld).toBeLessThanOrEqual(bound);
    expect(builder.retainedEntries).toBe(bound);
    const report = builder.finish(META);
    expect(report.counts).toEqual({ episodes: 200_000, graded: 200_000 - failed, error: failed });
    expect(report.unranked).toHaveLength(BATCH_UNRANKED_LIMIT);
    expect(report.unranked_total).toBe(failed);
    expect(TASKS.map((t) => [report.leaderboards[t]!.length, report.tasks[t]!.stats.episodes])).toEqual(TASKS.map((t) => [topK, report.tasks[t]!.histogram.graded]));
    expect(TASKS.reduce((sum, t) => sum + report.tasks[t]!.stats.episodes, 0)).toBe(200_000 - failed);
    expect(Object.keys(report.tenants)).toHaveLength(50);
    expect(report.agents.easy_mnist!.map((a) => a.agent).sort()).toEqual(['baseline', 'llm gpt-4o-mini', 'llm gpt-4o-mini @v2'].sort());
  });

  it('the pages of a cut task say how many they show of how many, with the figures over all of them', () => {
    const entries: ReportEntry[] = [];
    for (let i = 0; i < 250; i++) {
      entries.push({ tenant: 't', episode_id: `g${String(i).padStart(3, '0')}`, task_id: 'medium_fashion', status: 'graded', score: (i + 0.5) / 250, accuracy: 0.8, epochs: 10, agent: AGENTS[i % 2] });
    }
    for (let i = 0; i < 230; i++) entries.push({ tenant: 't', episode_id: `x${i}`, status: 'error', error: 'boom' });
    const { report } = built(entries);

    const byEpisode = renderBatchLeaderboardHtml(report, 'episode');
    const section = byEpisode.slice(byEpisode.indexOf('id="task-medium-fashion-heading"'), byEpisode.indexOf('id="unranked-heading"'));
    expect(section).toContain('Fashion Item Classifier: the top 100 of 250 episodes ranked by score');
    expect([...section.matchAll(/<tr><th scope="row" class="num">(\d+)<\/th>/g)].map((m) => Number(m[1]))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(section).toContain('<dt>Episodes</dt><dd>250 <small>250 graded</small></dd>');
    expect(section).toContain('Score distribution of 250 graded episodes in bins of 0.1: 0.0–0.1: 25,');
    expect(section).toContain('<dt>Median score</dt><dd>0.5</dd>');
    expect(section).toContain('<dt>Above baseline</dt><dd>100 <small>of 250</small></dd>');

    const byAgent = renderBatchLeaderboardHtml(report, 'agent');
    expect(byAgent).toContain('<summary>The top 100 of 250 episodes ranked by score</summary>');
    expect(byAgent).toContain('<td>baseline</td><td class="num">125</td>');
    expect(byAgent).toContain('<dt>Agents</dt><dd>2</dd>');
    expect(byAgent).toContain('<h2 id="unranked-heading">Not ranked <small class="muted">230</small></h2>');
    expect(byAgent).toContain('their grading failed (the first 200 of 230)</caption>');
  });
});
