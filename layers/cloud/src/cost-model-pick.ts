import { listTaskModules, MAX_EPOCHS_PER_CALL, type TaskModule } from '../../core/src';
import { COST_MEASUREMENTS, type CostMeasurements } from './cost-measurements';
import {
  coldStartSeconds,
  type CostAssumptions,
  DEFAULT_COST_ASSUMPTIONS,
  episodeCost,
  type EpisodeCost,
  episodeUsage,
  type EpisodeUsage,
  MB_PER_VCPU,
  NEW_ACCOUNT_MEMORY_LIMIT_MB,
  stepOverheadSeconds,
  THREAD_COUNTS,
  type ThreadCount,
  trainingThreads,
  epochSecondsAt,
} from './cost-model';
import { type CostPrices, type LambdaArchitecture, US_EAST_1_PRICES } from './cost-model-prices';

/**
 * The cost model over a grid of training memories and pinned thread counts, and the pick:
 * the (memory, threads) of the one training function that minimises the summed cost of one
 * full-budget episode of every task, subject to the latency bound (a step of
 * MAX_EPOCHS_PER_CALL epochs of any task, cold start included, within maxStepSeconds), to
 * memory that holds every task's step (memoryNeededMb), and to memory from one vCPU (the MLP's thread needs a whole one) up to pickMaxMemoryMb (new
 * accounts' quota). Ties go to the smaller memory, then to fewer threads.
 */

/** The memories the command shows by default: one vCPU, the new-account cap, two and three vCPUs, the most. */
export const DEFAULT_COST_MEMORIES_MB = [1769, 3008, 3538, 5307, 10240] as const;

/** Issue 13's acceptance: modelled training + request cost per full episode at the defaults. */
export const COST_TARGETS_USD: Partial<Record<TaskModule['definition']['difficulty'], number>> = { easy: 0.005, hard: 0.03 };

export interface CostOptions {
  memoriesMb: readonly number[];
  threads: readonly ThreadCount[];
  architecture: LambdaArchitecture;
  prices: CostPrices;
  assumptions: CostAssumptions;
  /** The latency bound: a MAX_EPOCHS_PER_CALL-epoch step of every task, cold start included. */
  maxStepSeconds: number;
  /** The pick's memory range. */
  pickMinMemoryMb: number;
  pickMaxMemoryMb: number;
  /** Restrict to these tasks (default: every registered task). */
  taskIds?: readonly string[];
}

export const DEFAULT_COST_OPTIONS: CostOptions = {
  memoriesMb: DEFAULT_COST_MEMORIES_MB,
  threads: THREAD_COUNTS,
  architecture: 'x86_64',
  prices: US_EAST_1_PRICES,
  assumptions: DEFAULT_COST_ASSUMPTIONS,
  // Two thirds of Lambda's 15-minute timeout: a slower container still finishes.
  maxStepSeconds: 600,
  pickMinMemoryMb: MB_PER_VCPU,
  pickMaxMemoryMb: NEW_ACCOUNT_MEMORY_LIMIT_MB,
};

export interface CostRow {
  task: string;
  difficulty: string;
  memory_mb: number;
  /** The thread count the function pins; task_threads what this task trains on. */
  threads: ThreadCount;
  task_threads: ThreadCount;
  /** A MAX_EPOCHS_PER_CALL-epoch step with a cold start, in seconds (the latency bound's measure). */
  bound_step_s: number;
  usage: EpisodeUsage;
  cost: EpisodeCost;
}

export interface CostPick {
  memory_mb: number;
  threads: ThreadCount;
  /** Full-episode cost per task at the pick, and the targets. */
  total_usd: Record<string, number>;
  targets: { task: string; target_usd: number; total_usd: number; met: boolean }[];
}

export interface CostReport {
  architecture: LambdaArchitecture;
  prices: CostPrices;
  assumptions: CostAssumptions;
  max_step_seconds: number;
  pick_memory_range_mb: [number, number];
  measurements: Pick<CostMeasurements, 'measured_at' | 'machine' | 'load_average' | 'batch_size'>;
  rows: CostRow[];
  /** null when no candidate meets the bound (`no_pick` says why). */
  pick: CostPick | null;
  no_pick?: string;
  /** Per task, its own cheapest (memory, threads) within the bound: what per-task functions would use. */
  per_task: { task: string; memory_mb: number; threads: ThreadCount; total_usd: number }[];
}

/** Memory over a step's measured peak RSS: the runtime, checkpoint buffers and a second copy of the data while a step restores. */
export const MEMORY_HEADROOM = 1.5;

/** The least memory a task's step fits in: its peak RSS (a fresh `ml-trainer run`, bench) × MEMORY_HEADROOM. */
export function memoryNeededMb(m: CostMeasurements['tasks'][string]): number {
  return Math.ceil((m.peak_rss_bytes / 2 ** 20) * MEMORY_HEADROOM);
}

function boundStepSeconds(task: CostedTask, measurements: CostMeasurements, memoryMb: number, threads: ThreadCount, a: CostAssumptions): number {
  const m = measurements.tasks[task.definition.task_id]!;
  const trainThreads = trainingThreads(m, threads);
  return (
    MAX_EPOCHS_PER_CALL * epochSecondsAt(m, memoryMb, threads) +
    stepOverheadSeconds(m, memoryMb, trainThreads, a) +
    coldStartSeconds(m, measurements.tfjs_load_s, memoryMb, a)
  );
}

function costRow(task: CostedTask, measurements: CostMeasurements, options: CostOptions, memoryMb: number, threads: ThreadCount): CostRow {
  const scenario = { memoryMb, threads, architecture: options.architecture, prices: options.prices, assumptions: options.assumptions };
  const usage = episodeUsage(task, measurements, scenario);
  const m = measurements.tasks[task.definition.task_id]!;
  return {
    task: task.definition.task_id,
    difficulty: task.definition.difficulty,
    memory_mb: memoryMb,
    threads,
    task_threads: trainingThreads(m, threads),
    bound_step_s: boundStepSeconds(task, measurements, memoryMb, threads, options.assumptions),
    usage,
    cost: episodeCost(usage, scenario),
  };
}

type CostedTask = Pick<TaskModule, 'definition' | 'baseline'>;

function modelledTasks(measurements: CostMeasurements, taskIds: readonly string[] | undefined, modules: readonly CostedTask[]): CostedTask[] {
  return modules.filter((t) => measurements.tasks[t.definition.task_id] !== undefined && (taskIds === undefined || taskIds.includes(t.definition.task_id)));
}

interface Candidate {
  memory_mb: number;
  threads: ThreadCount;
  rows: CostRow[];
}

function cheapest(candidates: Candidate[]): Candidate | undefined {
  const total = (c: Candidate) => c.rows.reduce((sum, r) => sum + r.cost.total_usd, 0);
  return [...candidates].sort((x, y) => total(x) - total(y) || x.memory_mb - y.memory_mb || x.threads - y.threads)[0];
}

/** Every registered task that has measurements (tests pass their own tasks and figures). */
export function evaluateCosts(
  options: CostOptions = DEFAULT_COST_OPTIONS,
  measurements: CostMeasurements = COST_MEASUREMENTS,
  modules: readonly CostedTask[] = listTaskModules(),
): CostReport {
  const tasks = modelledTasks(measurements, options.taskIds, modules);
  const candidates: Candidate[] = options.memoriesMb.flatMap((memory_mb) =>
    options.threads.map((threads) => ({ memory_mb, threads, rows: tasks.map((t) => costRow(t, measurements, options, memory_mb, threads)) })),
  );
  const inRange = (c: Candidate) => c.memory_mb >= options.pickMinMemoryMb && c.memory_mb <= options.pickMaxMemoryMb;
  const fits = (row: CostRow) => row.memory_mb >= memoryNeededMb(measurements.tasks[row.task]!);
  const withinBound = (rows: CostRow[]) => rows.every((r) => r.bound_step_s <= options.maxStepSeconds && fits(r));
  const best = cheapest(candidates.filter((c) => inRange(c) && withinBound(c.rows)));
  const per_task = tasks.flatMap((t) => {
    const own = candidates.map((c) => ({ ...c, rows: c.rows.filter((r) => r.task === t.definition.task_id) }));
    const pick = cheapest(own.filter((c) => inRange(c) && withinBound(c.rows)));
    return pick ? [{ task: t.definition.task_id, memory_mb: pick.memory_mb, threads: pick.threads, total_usd: pick.rows[0]!.cost.total_usd }] : [];
  });
  return {
    architecture: options.architecture,
    prices: options.prices,
    assumptions: options.assumptions,
    max_step_seconds: options.maxStepSeconds,
    pick_memory_range_mb: [options.pickMinMemoryMb, options.pickMaxMemoryMb],
    measurements: { measured_at: measurements.measured_at, machine: measurements.machine, load_average: measurements.load_average, batch_size: measurements.batch_size },
    rows: candidates.flatMap((c) => c.rows),
    pick: best ? pickOf(best) : null,
    ...(best ? {} : { no_pick: `no memory in ${options.pickMinMemoryMb}-${options.pickMaxMemoryMb} MB among ${options.memoriesMb.join(', ')} keeps a ${MAX_EPOCHS_PER_CALL}-epoch step of every task within ${options.maxStepSeconds} s and holds its peak RSS × ${MEMORY_HEADROOM}` }),
    per_task,
  };
}

function pickOf(best: Candidate): CostPick {
  return {
    memory_mb: best.memory_mb,
    threads: best.threads,
    total_usd: Object.fromEntries(best.rows.map((r) => [r.task, r.cost.total_usd])),
    targets: best.rows.flatMap((r) => {
      const target = COST_TARGETS_USD[r.difficulty as keyof typeof COST_TARGETS_USD];
      return target === undefined ? [] : [{ task: r.task, target_usd: target, total_usd: r.cost.total_usd, met: r.cost.total_usd <= target }];
    }),
  };
}

/** The default pick, for infra's training memory default. */
function defaultPick(): CostPick {
  const pick = evaluateCosts().pick;
  if (pick === null) throw new Error('the cost model has no default pick: re-measure (ml-trainer cost --help)');
  return pick;
}

/** The training function's memory the cost model picks with its defaults (`ml-trainer cost`). */
export function recommendedTrainingMemoryMb(): number {
  return defaultPick().memory_mb;
}

/** The TensorFlow intra-op thread count (TF_NUM_INTRAOP_THREADS) the training function should pin with that memory. */
export function recommendedTrainingThreads(): ThreadCount {
  return defaultPick().threads;
}
