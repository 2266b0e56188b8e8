import { MAX_EPOCHS_PER_CALL, MAX_STEPS, type TaskModule } from '../../core/src';
import { DEFAULT_STEP_LEASE_MS, LEASE_RENEWALS_PER_DURATION } from '../../episodes/src';
import { API_FUNCTION_MEMORY_MB, DEFAULT_STEP_ROUTING } from './config';
import type { CostMeasurements, TaskCostMeasurement } from './cost-measurements';
import { type CostPrices, gbSecondUsd, type LambdaArchitecture } from './cost-model-prices';

/**
 * The cost of one full-budget episode per task, training memory and TensorFlow thread count.
 *
 * Lambda gives a function CPU in proportion to its memory: 1769 MB buys one vCPU, up to 6
 * at 10,240 MB. An epoch measured here on T pinned intra-op threads (with at least T cores
 * free) takes, at memory M, that time × max(1, T / vCPU(M)): below T vCPUs the T threads
 * share what the memory buys; above, the spare vCPUs sit idle because the threads are
 * pinned. A task measured on one thread only (the MLP: layers/runtime/src/task-threads.ts
 * trains it on one thread in a worker) uses one thread whatever the function pins.
 *
 * An episode plays the task's whole epoch budget in the steps its baseline plan takes
 * (episodeSteps). Per training step the training function is billed for the epochs, the
 * checkpoint's restore and save (measured), its S3 transfers and the DynamoDB calls
 * (assumed rates); the first step also pays the cold start (tfjs-node load, dataset
 * download and decode: Lambda bills the init phase). The api function is billed for each
 * request, and for the whole step while it waits for a synchronous one. DynamoDB writes
 * are charged per KB of the whole episode item (each lease write rewrites the item).
 */

/** The memory that buys one vCPU, and the most vCPUs a function gets. */
export const MB_PER_VCPU = 1769;
export const MAX_VCPUS = 6;
export const LAMBDA_MEMORY_RANGE_MB = { min: 128, max: 10_240 } as const;
/** The highest memory a new or low-quota account may configure (issue 13): the pick stays at or below it by default. */
export const NEW_ACCOUNT_MEMORY_LIMIT_MB = 3008;
export const THREAD_COUNTS = [1, 2] as const;
export type ThreadCount = (typeof THREAD_COUNTS)[number];

/** vCPUs (possibly fractional) a function with this much memory gets. */
export function vcpusAt(memoryMb: number): number {
  return Math.min(MAX_VCPUS, memoryMb / MB_PER_VCPU);
}

/** How much longer CPU work measured on `threads` threads takes at this memory (≥ 1). */
export function cpuSlowdown(memoryMb: number, threads: number): number {
  return Math.max(1, threads / vcpusAt(memoryMb));
}

/** The thread count a task trains on when the function pins `pinned`: the MLP (measured at 1 only) stays on 1. */
export function trainingThreads(measurement: TaskCostMeasurement, pinned: ThreadCount): ThreadCount {
  return measurement.epoch_s[pinned] === undefined ? 1 : pinned;
}

export function epochSecondsAt(measurement: TaskCostMeasurement, memoryMb: number, pinned: ThreadCount): number {
  const threads = trainingThreads(measurement, pinned);
  return measurement.epoch_s[threads]! * cpuSlowdown(memoryMb, threads);
}

/** Calls of an episode that do not train: configure_training first, submit last. */
export const NON_TRAINING_STEPS = 2;

/**
 * Epochs per step of a full-budget episode, as the baseline agent plays the task's plan
 * (layers/agent/src/policies/baseline.ts): use_whole_budget in MAX_EPOCHS_PER_CALL chunks;
 * stop_after_best 10, then up to 20 until 20 epochs are left, then 5s; guard_the_gap 4, then
 * 2s (it alternates 1-3 near the top); train_in_chunks 10s. An episode has MAX_STEPS calls
 * (configure and submit among them), so a chunk grows when the plan's would not reach the
 * end of the budget in the steps left.
 */
export function episodeSteps(task: Pick<TaskModule, 'definition' | 'baseline'>): number[] {
  const steps: number[] = [];
  let left = task.definition.max_epochs;
  const take = (epochs: number) => {
    const stepsLeft = Math.max(1, MAX_STEPS - NON_TRAINING_STEPS - steps.length);
    const n = Math.min(left, MAX_EPOCHS_PER_CALL, Math.max(1, epochs, Math.ceil(left / stepsLeft)));
    steps.push(n);
    left -= n;
  };
  const plan = task.baseline.plan;
  if (plan === 'guard_the_gap') take(4);
  if (plan === 'stop_after_best') take(10);
  while (left > 0) {
    if (plan === 'use_whole_budget') take(MAX_EPOCHS_PER_CALL);
    else if (plan === 'guard_the_gap') take(2);
    else if (plan === 'stop_after_best') take(left > 20 ? left - 20 : 5);
    else take(10);
  }
  return steps;
}

/** What the model assumes where nothing was measured here (each is listed in the command's output). */
export interface CostAssumptions {
  /** The api function's memory (infra/stacks/api-stack.ts). */
  apiMemoryMb: number;
  /** Billed time of a warm api request that does not wait for training. */
  apiRequestSeconds: number;
  /** The api function's cold start, once per episode (issue 13 measured 0.8-1.5 s). */
  apiColdStartSeconds: number;
  /** Requests besides training steps and polls: create, configure, submit (NON_TRAINING_STEPS + the creation). */
  otherRequestsPerEpisode: number;
  /** Cold starts of the training function per episode (a new container for each episode: the upper case). */
  trainingColdStartsPerEpisode: number;
  /** S3 throughput from a Lambda (checkpoints, dataset files). */
  s3BytesPerSecond: number;
  /** One DynamoDB call from a Lambda. */
  dynamoCallSeconds: number;
  /**
   * The episode item at the first training step and at the end, growing linearly in between:
   * measured 3.4-4.5 KB and 12.1-16.6 KB (test/cloud/cost-model-item-size.test.ts keeps these
   * bounds true). Issue 13's 17-60 KB is a maximal episode's (large logged arguments).
   */
  itemKb: { first: number; last: number };
  /** Synchronous steps: the api waits for steps expected within this (SYNC_STEP_BUDGET_MS). */
  syncBudgetSeconds: number;
  /** A running step's lease is rewritten this often (DEFAULT_STEP_LEASE_MS / LEASE_RENEWALS_PER_DURATION). */
  leaseRenewSeconds: number;
  /** The REST client's polls of an asynchronous step: first after this, doubling... */
  pollFirstSeconds: number;
  /** ...up to this (layers/agent/src/rest-environment.ts). */
  pollMaxSeconds: number;
}

export const DEFAULT_COST_ASSUMPTIONS: CostAssumptions = {
  apiMemoryMb: API_FUNCTION_MEMORY_MB,
  apiRequestSeconds: 0.1,
  apiColdStartSeconds: 1.2,
  otherRequestsPerEpisode: 3,
  trainingColdStartsPerEpisode: 1,
  s3BytesPerSecond: 80e6,
  dynamoCallSeconds: 0.015,
  itemKb: { first: 5, last: 17 },
  syncBudgetSeconds: DEFAULT_STEP_ROUTING.syncBudgetMs / 1000,
  leaseRenewSeconds: DEFAULT_STEP_LEASE_MS / LEASE_RENEWALS_PER_DURATION / 1000,
  pollFirstSeconds: 1,
  pollMaxSeconds: 30,
};

/** DynamoDB calls of the training function per step: read the episode, take the lease, commit, release. */
const TRAINING_DYNAMO_CALLS = 4;
/** Whole-item writes per step besides lease renewals: lease taken, commit, lease released. */
const ITEM_WRITES_PER_STEP = 3;
/** The tenant GSI's share of a commit (its projection is a few small attributes). */
const GSI_WRITE_UNITS_PER_COMMIT = 1;

export interface CostScenario {
  memoryMb: number;
  threads: ThreadCount;
  architecture: LambdaArchitecture;
  prices: CostPrices;
  assumptions: CostAssumptions;
}

/** Usage of one full-budget episode. */
export interface EpisodeUsage {
  steps: number;
  epochs: number;
  sync_steps: number;
  /** The modelled seconds of one epoch and of the episode's longest step. */
  epoch_s: number;
  longest_step_s: number;
  /** Wall seconds the training function runs for the episode (init included). */
  training_s: number;
  training_gb_s: number;
  api_gb_s: number;
  lambda_requests: number;
  api_gateway_requests: number;
  write_units: number;
  read_units: number;
  s3_puts: number;
  s3_gets: number;
}

export interface EpisodeCost {
  training_usd: number;
  requests_usd: number;
  total_usd: number;
  by_item: { training_compute: number; api_compute: number; lambda_requests: number; api_gateway: number; dynamodb: number; s3: number };
}

/** Polls the REST client makes while waiting `seconds` for an asynchronous step (backoff doubling from first to max). */
export function pollsDuring(seconds: number, first: number, max: number): number {
  let polls = 0;
  let waited = 0;
  let wait = first;
  while (waited < seconds) {
    waited += wait;
    polls += 1;
    wait = Math.min(max, wait * 2);
  }
  return polls;
}

/** The item's size at step `index` of `count`, in whole KB (what a write is charged per). */
export function itemKbAt(index: number, count: number, itemKb: CostAssumptions['itemKb']): number {
  const share = count <= 1 ? 1 : index / (count - 1);
  return Math.ceil(itemKb.first + (itemKb.last - itemKb.first) * share);
}

/** Seconds of the training function's first-step init: tfjs-node load, dataset download and decode. */
export function coldStartSeconds(measurement: TaskCostMeasurement, tfjsLoadSeconds: number, memoryMb: number, a: CostAssumptions): number {
  const cpu = (tfjsLoadSeconds + measurement.cold_start.decode_s) * cpuSlowdown(memoryMb, 1);
  return cpu + measurement.cold_start.train_file_bytes / a.s3BytesPerSecond;
}

/** Seconds a step spends besides its epochs: checkpoint restore and save (measured), their S3 transfers and the DynamoDB calls. */
export function stepOverheadSeconds(measurement: TaskCostMeasurement, memoryMb: number, threads: ThreadCount, a: CostAssumptions): number {
  const c = measurement.checkpoint;
  const cpu = (c.save_s + c.restore_ready_s) * cpuSlowdown(memoryMb, threads);
  return cpu + (2 * c.bytes) / a.s3BytesPerSecond + TRAINING_DYNAMO_CALLS * a.dynamoCallSeconds;
}

export function episodeUsage(task: Pick<TaskModule, 'definition' | 'baseline'>, measurements: CostMeasurements, scenario: CostScenario): EpisodeUsage {
  const m = measurements.tasks[task.definition.task_id];
  if (m === undefined) throw new RangeError(`no cost measurements for task ${task.definition.task_id}`);
  const { memoryMb, assumptions: a } = scenario;
  const threads = trainingThreads(m, scenario.threads);
  const epochS = epochSecondsAt(m, memoryMb, scenario.threads);
  const overheadS = stepOverheadSeconds(m, memoryMb, threads, a);
  const steps = episodeSteps(task);
  const apiGb = a.apiMemoryMb / 1024;
  const u: EpisodeUsage = {
    steps: steps.length,
    epochs: steps.reduce((sum, e) => sum + e, 0),
    sync_steps: 0,
    epoch_s: epochS,
    longest_step_s: 0,
    training_s: a.trainingColdStartsPerEpisode * coldStartSeconds(m, measurements.tfjs_load_s, memoryMb, a),
    training_gb_s: 0,
    api_gb_s: apiGb * a.apiColdStartSeconds,
    lambda_requests: 0,
    api_gateway_requests: 0,
    write_units: 0,
    read_units: 0,
    s3_puts: 0,
    s3_gets: 0,
  };
  steps.forEach((epochs, index) => {
    const stepS = epochs * epochS + overheadS;
    const itemKb = itemKbAt(index, steps.length, a.itemKb);
    const sync = stepS <= a.syncBudgetSeconds;
    const polls = sync ? 0 : pollsDuring(stepS, a.pollFirstSeconds, a.pollMaxSeconds);
    u.longest_step_s = Math.max(u.longest_step_s, stepS);
    u.training_s += stepS;
    u.sync_steps += sync ? 1 : 0;
    u.api_gb_s += apiGb * ((1 + polls) * a.apiRequestSeconds + (sync ? stepS : 0));
    u.lambda_requests += 2 + polls;
    u.api_gateway_requests += 1 + polls;
    const renewals = Math.floor(stepS / a.leaseRenewSeconds);
    u.write_units += (ITEM_WRITES_PER_STEP + renewals) * itemKb + GSI_WRITE_UNITS_PER_COMMIT;
    // The api's read, the training function's read, and one per poll (strongly consistent: 4 KB a unit).
    u.read_units += (2 + polls) * Math.ceil(itemKb / 4);
    u.s3_puts += 1;
    u.s3_gets += index === 0 ? 0 : 1;
  });
  const others = a.otherRequestsPerEpisode;
  u.api_gb_s += apiGb * others * a.apiRequestSeconds;
  u.lambda_requests += others;
  u.api_gateway_requests += others;
  // Each reads and rewrites the item (at its largest, to be safe), and touches the tenant GSI.
  u.write_units += others * (Math.ceil(a.itemKb.last) + GSI_WRITE_UNITS_PER_COMMIT);
  u.read_units += others * Math.ceil(a.itemKb.last / 4);
  u.training_gb_s = (memoryMb / 1024) * u.training_s;
  return u;
}

export function episodeCost(usage: EpisodeUsage, scenario: Pick<CostScenario, 'architecture' | 'prices'>): EpisodeCost {
  const p = scenario.prices;
  const by_item = {
    training_compute: usage.training_gb_s * gbSecondUsd(p, scenario.architecture),
    // The api function stays on x86_64 (infra/stacks/api-stack.ts).
    api_compute: usage.api_gb_s * p.lambdaGbSecondX86Usd,
    lambda_requests: usage.lambda_requests * p.lambdaRequestUsd,
    api_gateway: usage.api_gateway_requests * p.apiGatewayRequestUsd,
    dynamodb: usage.write_units * p.dynamoWriteUnitUsd + usage.read_units * p.dynamoReadUnitUsd,
    s3: usage.s3_puts * p.s3PutUsd + usage.s3_gets * p.s3GetUsd,
  };
  const training = by_item.training_compute;
  const total = Object.values(by_item).reduce((sum, v) => sum + v, 0);
  return { training_usd: training, requests_usd: total - training, total_usd: total, by_item };
}
