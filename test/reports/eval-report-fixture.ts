import type { AgentLabel } from '../../layers/core/src';
import type { EvalComparison, EvalEpisodeData, EvalReportData, EvalTaskData, Interval } from '../../layers/reports/src';

/*
 * EvalReportData built by hand (not by `ml-trainer eval` or `ml-trainer report`), so the
 * renderer's tests choose every case: failed episodes, missing costs, references or none.
 */

export interface FixtureTask {
  task_id: string;
  max_epochs?: number;
  seeds: number[];
  /** Seeds whose episode failed: no score, an error, a curve cut short (or none when listed in noCurve). */
  failed?: number[];
  /** Seeds whose episode has no epoch at all. */
  noCurve?: number[];
  /** Reference policies and the difference to each. */
  comparisons?: EvalComparison[];
  /** Cost per episode, USD; null: the environment reports none. */
  cost?: number | null;
  modelCost?: number | null;
  /** Report links: 'relative' (episodes/<id>.html), or null for none. */
  links?: 'relative' | null;
  error?: string;
  episodeIdPrefix?: string;
}

export interface FixtureOptions {
  agent?: AgentLabel;
  title?: string;
  environment?: string;
  command?: string;
  tasks: FixtureTask[];
}

/** A deterministic learning curve: rises towards a plateau set by the seed. */
export function curve(seed: number, epochs: number): number[] {
  const plateau = 0.9 + ((seed * 37) % 9) / 100;
  return Array.from({ length: epochs }, (_, i) => Number((plateau - 0.35 * Math.exp(-(i + 1) / 2)).toFixed(4)));
}

export function scoreOf(seed: number): number {
  return Number((0.55 + ((seed * 53) % 40) / 100).toFixed(4));
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

function interval(values: number[]): Interval {
  if (values.length === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN };
  const m = mean(values);
  return { mean: m, low: Math.min(...values) * 0.5 + m * 0.5, high: Math.max(...values) * 0.5 + m * 0.5 };
}

function episode(task: FixtureTask, seed: number): EvalEpisodeData {
  const maxEpochs = task.max_epochs ?? 20;
  const failed = task.failed?.includes(seed) ?? false;
  const epochs = task.noCurve?.includes(seed) ? 0 : failed ? 3 : Math.min(maxEpochs, 8 + (seed % 5));
  const id = `${task.episodeIdPrefix ?? 'ep'}-${task.task_id}-${seed}`;
  const val_accuracy = curve(seed, epochs);
  return {
    seed,
    episode_id: id,
    score: failed ? null : scoreOf(seed),
    status: failed ? 'failed' : 'submitted',
    epochs_used: epochs,
    steps: failed ? 2 : 4,
    val_accuracy,
    val_loss: val_accuracy.map((a) => Number((1 - a).toFixed(4))),
    report_href: task.links === null ? null : `episodes/${id}.html`,
    ...(failed ? { error: task.error ?? 'trainer crashed: out of memory' } : {}),
  };
}

function taskData(task: FixtureTask): EvalTaskData {
  const episodes = task.seeds.map((seed) => episode(task, seed));
  const scores = episodes.flatMap((e) => (e.score === null ? [] : [e.score]));
  const sorted = [...scores].sort((a, b) => a - b);
  const cost = task.cost ?? null;
  return {
    task_id: task.task_id,
    max_epochs: task.max_epochs ?? 20,
    summary: {
      episodes: episodes.length,
      score: interval(scores),
      median: sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN,
      min: sorted.length > 0 ? sorted[0]! : Number.NaN,
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
      mean_epochs_used: mean(episodes.map((e) => e.epochs_used)),
      mean_steps: mean(episodes.map((e) => e.steps)),
      mean_training_seconds: 3.25,
      mean_cost_usd: cost,
      mean_model_cost_usd: task.modelCost ?? null,
    },
    comparisons: task.comparisons ?? [],
    episodes,
  };
}

/** A reference whose difference's interval lies above 0, below 0, or includes it. */
export function comparison(policy: string, difference: 'above' | 'below' | 'includes-zero', episodes = 3): EvalComparison {
  const d = { above: { mean: 0.12, low: 0.05, high: 0.2 }, below: { mean: -0.1, low: -0.18, high: -0.02 }, 'includes-zero': { mean: 0.01, low: -0.04, high: 0.06 } }[difference];
  return { policy, episodes, score: { mean: 0.7 - d.mean, low: 0.62 - d.mean, high: 0.78 - d.mean }, difference: d };
}

export function evalReportData(options: FixtureOptions): EvalReportData {
  const tasks = options.tasks.map(taskData);
  const episodes = tasks.reduce((n, t) => n + t.episodes.length, 0);
  const costs = options.tasks.map((t) => t.cost ?? null);
  const modelCosts = options.tasks.map((t) => t.modelCost ?? null);
  const total = (values: (number | null)[], perTask: (i: number) => number) =>
    values.every((v) => v === null) ? null : values.reduce<number>((s, v, i) => s + (v ?? 0) * perTask(i), 0);
  return {
    title: options.title ?? 'Eval of baseline',
    generated_at: '2026-12-02T08:00:00.000Z',
    agent: options.agent ?? { policy: 'baseline' },
    environment: options.environment ?? 'in-process',
    command: options.command ?? 'ml-trainer eval --policy baseline --tasks easy_mnist --seeds 3 --out eval.html',
    confidence: { level: 0.95, resamples: 10_000, seed: 20260101 },
    tasks,
    totals: {
      episodes,
      wall_seconds: 125.5,
      episodes_per_hour: (episodes / 125.5) * 3600,
      cost_usd: total(costs, (i) => tasks[i]!.episodes.length),
      model_cost_usd: total(modelCosts, (i) => tasks[i]!.episodes.length),
      prompt_tokens: modelCosts.some((c) => c !== null) ? 12_345 : null,
      completion_tokens: modelCosts.some((c) => c !== null) ? 678 : null,
    },
  };
}
