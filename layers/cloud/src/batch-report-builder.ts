import { agentLabelKey, agentLabelSchema, type AgentLabel } from '../../core/src';
import {
  addToScoreHistogram,
  AgentTally,
  emptyScoreHistogram,
  rankAgentStandings,
  type AgentStanding,
  type ScoreHistogram,
  type TaskStats,
} from '../../reports/src';
import type { BaselineScores, Prices } from './config';
import type { GradeResult } from './grading';

/**
 * The batch run's report (BatchReport, the JSON next to the leaderboard pages), built one
 * entry at a time: a run may grade 100,000 episodes or more, so what the builder keeps is
 * bounded by tasks × BATCH_TOP_K + agents + tenants + BATCH_UNRANKED_LIMIT, never by the
 * number of episodes. Per task it keeps the top entries (a bounded heap), the score
 * histogram, running count/sum/best and a fine histogram for the median; per agent and per
 * tenant running aggregates.
 */

/** Ranked episodes kept per task: the leaderboard lists these (the page says "top K of N"). */
export const BATCH_TOP_K = 100;
/** Episodes that could not be ranked kept for the report, in the order they came (unranked_total counts all). */
export const BATCH_UNRANKED_LIMIT = 200;

/** One episode of the batch report: its grade result, or the failure Step Functions recorded; with its agent label where it has one (read by write-report). */
export type ReportEntry = (
  | (GradeResult & { cost_usd?: number; lambda_gb_seconds?: number })
  | { tenant: string; episode_id: string; status: 'error'; error: string; task_id?: null }
) & { agent?: AgentLabel };

/** What the report says about its run (everything but the entries and the baselines). */
export interface BatchReportMeta {
  run_id: string;
  started_at: string | null;
  since: string | null;
  until: string | null;
  truncated: boolean;
  generated_at: string;
  prices: Prices;
}

export interface BatchReport extends BatchReportMeta {
  /** The baseline agent's score per task (BASELINE_SCORES), shown for reference. */
  baselines: BaselineScores;
  /** `episodes`: every entry; then one count per status that came (graded, grade_mismatch, not_ended, not_found, error). */
  counts: Record<string, number>;
  /** Per task, its best ranked episodes, best first: the top BATCH_TOP_K by the total order (all of them when fewer); rank is the episode's rank among all. */
  leaderboards: Record<string, RankedEntry[]>;
  /** Per task, over all its ranked episodes: how many the leaderboard shows, the score histogram and the stats (stats.episodes: how many there are). */
  tasks: Record<string, BatchTaskSummary>;
  /** Per task, all its agents ranked by mean score (layers/reports rankAgentStandings), over all its ranked episodes. */
  agents: Record<string, AgentStanding[]>;
  /** Per tenant, over all its entries. */
  tenants: Record<string, TenantSummary>;
  /** The first BATCH_UNRANKED_LIMIT of everything else (not ended, not found, failed), in the order they came. */
  unranked: ReportEntry[];
  /** How many could not be ranked (the length of `unranked` where none were left out). */
  unranked_total: number;
}

export interface RankedEntry {
  rank: number;
  tenant: string;
  episode_id: string;
  /** Who played it: the agent key ("llm gpt-4o-mini @v3", "unlabelled"). */
  agent: string;
  score: number;
  accuracy: number | null;
  epochs: number | null;
  steps: number | null;
  ended: string | null;
  ended_at: string | null;
  cost_usd: number | null;
  grade_matches: boolean;
}

/**
 * One task's figures over all its ranked episodes. stats is layers/reports TaskStats, as
 * exact as from all the scores except the median and the mean. The median comes from 10,001
 * bins 1e-4 wide that remember their lowest and highest score: it is exact when each middle
 * score is the lowest or the highest of its bin, or its bin holds one distinct score (always
 * for scores that are multiples of 1e-4); otherwise it is the midpoint of that bin's lowest
 * and highest score, less than 0.5e-4 from the exact median. The mean sums the scores in the
 * order they came (it may differ from a sorted sum in the last bits).
 */
export interface BatchTaskSummary {
  /** How many of its episodes `leaderboards[task]` lists (min(stats.episodes, BATCH_TOP_K)). */
  shown: number;
  /** Bins of 0.1 (layers/reports scoreHistogram). */
  histogram: ScoreHistogram;
  stats: TaskStats;
}

export interface TenantSummary {
  /** Every entry of the tenant. */
  episodes: number;
  /** Ranked with a score (graded or grade_mismatch). */
  graded: number;
  /** Failed in the batch run (status error: the failure Step Functions recorded). */
  failed: number;
  /** Mean score of its graded episodes; null: none. */
  mean: number | null;
}


export interface BatchReportOptions {
  /** The baseline agent's score per task: the report carries them and counts the episodes above. */
  baselines?: BaselineScores;
  /** Default BATCH_TOP_K. */
  topK?: number;
  /** Default BATCH_UNRANKED_LIMIT. */
  unrankedLimit?: number;
}

type RankableEntry = GradeResult & { cost_usd?: number; task_id: string; score: number };

function isRanked(entry: ReportEntry): entry is RankableEntry & { agent?: AgentLabel } {
  return (entry.status === 'graded' || entry.status === 'grade_mismatch') && typeof entry.score === 'number' && typeof entry.task_id === 'string';
}

/**
 * Best score first; ties: higher accuracy, fewer epochs, earlier end, then tenant and episode
 * id (a total order, so reruns rank alike). The HTML shows the product leaderboard's ranks
 * (layers/reports rankEntries: the same order up to the end time, but equal score and accuracy
 * share a rank).
 */
export function compareRanked(a: RankedEntry, b: RankedEntry): number {
  return (
    b.score - a.score ||
    (b.accuracy ?? 0) - (a.accuracy ?? 0) ||
    (a.epochs ?? Infinity) - (b.epochs ?? Infinity) ||
    (a.ended_at ?? '').localeCompare(b.ended_at ?? '') ||
    a.tenant.localeCompare(b.tenant) ||
    a.episode_id.localeCompare(b.episode_id)
  );
}

/** The agent key of a report entry; anything that is not a label (a report JSON edited by hand) counts as unlabelled. */
export function reportEntryAgentKey(entry: ReportEntry): string {
  const parsed = agentLabelSchema.safeParse(entry.agent);
  return agentLabelKey(parsed.success ? parsed.data : null);
}

function rankedEntryOf(entry: RankableEntry & { agent?: AgentLabel }): RankedEntry {
  return {
    rank: 0,
    tenant: entry.tenant,
    episode_id: entry.episode_id,
    agent: reportEntryAgentKey(entry),
    score: entry.score,
    accuracy: entry.accuracy ?? null,
    epochs: entry.epochs ?? null,
    steps: entry.steps ?? null,
    ended: entry.ended ?? null,
    ended_at: entry.ended_at ?? null,
    cost_usd: entry.cost_usd ?? null,
    grade_matches: entry.status === 'graded',
  };
}

/** The best `limit` items by `order` (negative: a before b), in a heap whose root is the worst one kept. */
class BestOf<T> {
  private readonly heap: T[] = [];

  constructor(
    private readonly limit: number,
    private readonly order: (a: T, b: T) => number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  offer(item: T): void {
    if (this.heap.length < this.limit) {
      this.heap.push(item);
      this.up(this.heap.length - 1);
    } else if (this.limit > 0 && this.order(item, this.heap[0]!) < 0) {
      this.heap[0] = item;
      this.down(0);
    }
  }

  sorted(): T[] {
    return [...this.heap].sort(this.order);
  }

  private up(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.order(this.heap[i]!, this.heap[parent]!) <= 0) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(index: number): void {
    let i = index;
    for (;;) {
      let worst = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        if (child < this.heap.length && this.order(this.heap[child]!, this.heap[worst]!) > 0) worst = child;
      }
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  private swap(i: number, j: number): void {
    [this.heap[i], this.heap[j]] = [this.heap[j]!, this.heap[i]!];
  }
}

/**
 * Bins of 1e-4 centred on the multiples of 1e-4 from 0 to 1 (a score on that grid has a bin
 * of its own; one outside [0, 1] counts in the end bin), each with its lowest and highest
 * score: BatchTaskSummary says how exact the median is.
 */
const MEDIAN_BINS = 10_001;

class MedianTally {
  private readonly counts = new Uint32Array(MEDIAN_BINS);
  private readonly lowest = new Float64Array(MEDIAN_BINS).fill(Infinity);
  private readonly highest = new Float64Array(MEDIAN_BINS).fill(-Infinity);
  private n = 0;

  add(score: number): void {
    const bin = Math.min(MEDIAN_BINS - 1, Math.max(0, Math.round(score * (MEDIAN_BINS - 1))));
    this.counts[bin] += 1;
    this.lowest[bin] = Math.min(this.lowest[bin]!, score);
    this.highest[bin] = Math.max(this.highest[bin]!, score);
    this.n += 1;
  }

  median(): number | null {
    const n = this.n;
    if (n === 0) return null;
    return n % 2 === 1 ? this.at((n - 1) / 2) : (this.at(n / 2 - 1) + this.at(n / 2)) / 2;
  }

  /** The k-th lowest score (0-based), as BatchTaskSummary describes. */
  private at(k: number): number {
    let before = 0;
    for (let bin = 0; bin < MEDIAN_BINS; bin++) {
      const count = this.counts[bin]!;
      if (k < before + count) {
        if (k === before) return this.lowest[bin]!;
        if (k === before + count - 1) return this.highest[bin]!;
        return (this.lowest[bin]! + this.highest[bin]!) / 2;
      }
      before += count;
    }
    throw new Error(`MedianTally: no score of rank ${k} among ${this.n}`);
  }
}

/** A task's running figures. */
class TaskTally {
  readonly top: BestOf<RankedEntry>;
  readonly histogram = emptyScoreHistogram();
  readonly agents = new Map<string, AgentTally>();
  private readonly median = new MedianTally();
  private episodes = 0;
  private sum = 0;
  private best: number | null = null;
  private above = 0;

  constructor(
    topK: number,
    private readonly baseline: number | undefined,
  ) {
    this.top = new BestOf(topK, compareRanked);
  }

  add(entry: RankedEntry): void {
    this.episodes += 1;
    this.top.offer(entry);
    addToScoreHistogram(this.histogram, entry.score);
    const agent = this.agents.get(entry.agent) ?? new AgentTally(entry.agent);
    agent.add({ episode_id: entry.episode_id, agent: entry.agent, score: entry.score });
    this.agents.set(entry.agent, agent);
    if (!Number.isFinite(entry.score)) return;
    this.sum += entry.score;
    this.best = this.best === null ? entry.score : Math.max(this.best, entry.score);
    if (this.baseline !== undefined && entry.score > this.baseline) this.above += 1;
    this.median.add(entry.score);
  }

  summary(): BatchTaskSummary {
    const graded = this.histogram.graded;
    return {
      shown: this.top.size,
      histogram: { graded, bins: this.histogram.bins.map((b) => ({ ...b })) },
      stats: {
        episodes: this.episodes,
        graded,
        best: this.best,
        median: this.median.median(),
        mean: graded === 0 ? null : this.sum / graded,
        above_baseline: this.baseline === undefined ? null : this.above,
      },
    };
  }
}

interface TenantTally {
  episodes: number;
  graded: number;
  failed: number;
  sum: number;
}

/**
 * Builds the batch report from its entries one at a time (add), then the report (finish).
 * For the same entries it gives what building from all of them gives, except as
 * BatchTaskSummary says for the median and the means, and that each leaderboard keeps its
 * top K.
 */
export class BatchReportBuilder {
  private readonly baselines: BaselineScores;
  private readonly topK: number;
  private readonly unrankedLimit: number;
  private readonly counts: Record<string, number> = { episodes: 0 };
  private readonly tasks = new Map<string, TaskTally>();
  private readonly tenants = new Map<string, TenantTally>();
  private readonly unranked: ReportEntry[] = [];
  private unrankedTotal = 0;

  constructor(options: BatchReportOptions = {}) {
    this.baselines = { ...options.baselines };
    this.topK = options.topK ?? BATCH_TOP_K;
    this.unrankedLimit = options.unrankedLimit ?? BATCH_UNRANKED_LIMIT;
  }

  /** Entries the builder holds (the leaderboards' and the unranked ones kept): at most tasks × topK + unrankedLimit. */
  get retainedEntries(): number {
    let held = this.unranked.length;
    for (const task of this.tasks.values()) held += task.top.size;
    return held;
  }

  add(entry: ReportEntry): void {
    this.counts.episodes! += 1;
    this.counts[entry.status] = (this.counts[entry.status] ?? 0) + 1;
    if (!isRanked(entry)) {
      this.tallyTenant(entry, null);
      this.unrankedTotal += 1;
      if (this.unranked.length < this.unrankedLimit) this.unranked.push(entry);
      return;
    }
    const ranked = rankedEntryOf(entry);
    this.tallyTenant(entry, ranked);
    const task = this.tasks.get(entry.task_id) ?? new TaskTally(this.topK, this.baselines[entry.task_id]);
    task.add(ranked);
    this.tasks.set(entry.task_id, task);
  }

  finish(meta: BatchReportMeta): BatchReport {
    const leaderboards: Record<string, RankedEntry[]> = {};
    const tasks: Record<string, BatchTaskSummary> = {};
    const agents: Record<string, AgentStanding[]> = {};
    for (const id of [...this.tasks.keys()].sort()) {
      const task = this.tasks.get(id)!;
      leaderboards[id] = task.top.sorted().map((e, i) => ({ ...e, rank: i + 1 }));
      tasks[id] = task.summary();
      agents[id] = rankAgentStandings([...task.agents.values()].map((a) => a.standing()));
    }
    const tenants: Record<string, TenantSummary> = {};
    for (const tenant of [...this.tenants.keys()].sort()) {
      const { sum, ...counts } = this.tenants.get(tenant)!;
      tenants[tenant] = { ...counts, mean: counts.graded === 0 ? null : sum / counts.graded };
    }
    return {
      run_id: meta.run_id,
      started_at: meta.started_at,
      since: meta.since,
      until: meta.until,
      truncated: meta.truncated,
      generated_at: meta.generated_at,
      prices: meta.prices,
      baselines: { ...this.baselines },
      counts: { ...this.counts },
      leaderboards,
      tasks,
      agents,
      tenants,
      unranked: [...this.unranked],
      unranked_total: this.unrankedTotal,
    };
  }

  private tallyTenant(entry: ReportEntry, ranked: RankedEntry | null): void {
    const tenant = this.tenants.get(entry.tenant) ?? { episodes: 0, graded: 0, failed: 0, sum: 0 };
    tenant.episodes += 1;
    if (entry.status === 'error') tenant.failed += 1;
    if (ranked !== null && Number.isFinite(ranked.score)) {
      tenant.graded += 1;
      tenant.sum += ranked.score;
    }
    this.tenants.set(entry.tenant, tenant);
  }
}
