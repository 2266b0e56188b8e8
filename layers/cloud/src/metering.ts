import type { EpisodeStore, StoredUsage } from '../../storage/src';
import type { Prices } from './config';
import type { EpisodeQuotaStatus } from './episode-quota';
import { meteringRef, NO_LAMBDA_USAGE, type LambdaUsage, type MeteringStore } from './table-items';

/**
 * What an episode (or a tenant over a time range) used and what it is estimated to cost:
 * the stored service's usage (committed steps, epochs trained, training seconds) plus the
 * training Lambda's metering (requests, billed milliseconds, GB-seconds), priced with the
 * configured prices. The estimate is ours, not AWS's bill: it counts the training
 * invocations only (the api Lambda, DynamoDB and S3 are in the per-episode price).
 */
export interface UsageFigures extends StoredUsage, LambdaUsage {}

export interface CostEstimate {
  episodes_usd: number;
  lambda_compute_usd: number;
  lambda_requests_usd: number;
  total_usd: number;
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export function estimateCost(episodes: number, usage: LambdaUsage, prices: Prices): CostEstimate {
  const episodesUsd = episodes * prices.perEpisodeUsd;
  const computeUsd = usage.lambda_gb_seconds * prices.lambdaGbSecondUsd;
  const requestsUsd = usage.lambda_requests * prices.lambdaRequestUsd;
  return {
    episodes_usd: roundUsd(episodesUsd),
    lambda_compute_usd: roundUsd(computeUsd),
    lambda_requests_usd: roundUsd(requestsUsd),
    total_usd: roundUsd(episodesUsd + computeUsd + requestsUsd),
  };
}

export function sumUsage(items: readonly Partial<UsageFigures>[]): UsageFigures {
  const total: UsageFigures = { steps: 0, epochs_trained: 0, training_seconds: 0, ...NO_LAMBDA_USAGE };
  for (const item of items) {
    total.steps += item.steps ?? 0;
    total.epochs_trained += item.epochs_trained ?? 0;
    total.training_seconds += item.training_seconds ?? 0;
    total.lambda_requests += item.lambda_requests ?? 0;
    total.lambda_billed_ms += item.lambda_billed_ms ?? 0;
    total.lambda_gb_seconds += item.lambda_gb_seconds ?? 0;
  }
  total.training_seconds = round6(total.training_seconds);
  total.lambda_gb_seconds = round6(total.lambda_gb_seconds);
  return total;
}

/** The answer of GET /v1/usage. */
export interface UsageReport {
  tenant: string;
  /** Episodes created in [from, to). */
  from: string;
  to: string;
  episodes: number;
  by_status: Record<string, number>;
  by_task: Record<string, { episodes: number; steps: number; epochs_trained: number }>;
  usage: UsageFigures;
  prices: { per_episode_usd: number; lambda_gb_second_usd: number; lambda_request_usd: number };
  estimated_cost: CostEstimate;
  /** This calendar month's episode quota (whatever from/to say): limit (null: unlimited), used, remaining, period, resets_at. */
  episode_quota?: EpisodeQuotaStatus;
}

export async function usageReport(
  deps: { episodes: EpisodeStore; metering: MeteringStore; prices: Prices },
  tenant: string,
  range: { from: Date; to: Date },
): Promise<UsageReport> {
  const rows = await deps.episodes.listUsage(tenant, range.from, range.to);
  const lambda = await deps.metering.getMany(rows);
  const perEpisode = rows.map((row) => ({ ...row.usage, ...(lambda.get(meteringRef(row)) ?? NO_LAMBDA_USAGE) }));
  const usage = sumUsage(perEpisode);
  const byStatus: Record<string, number> = {};
  const byTask: UsageReport['by_task'] = {};
  for (const row of rows) {
    byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
    const task = (byTask[row.task_id] ??= { episodes: 0, steps: 0, epochs_trained: 0 });
    task.episodes += 1;
    task.steps += row.usage.steps;
    task.epochs_trained += row.usage.epochs_trained;
  }
  return {
    tenant,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    episodes: rows.length,
    by_status: byStatus,
    by_task: byTask,
    usage,
    prices: {
      per_episode_usd: deps.prices.perEpisodeUsd,
      lambda_gb_second_usd: deps.prices.lambdaGbSecondUsd,
      lambda_request_usd: deps.prices.lambdaRequestUsd,
    },
    estimated_cost: estimateCost(rows.length, usage, deps.prices),
  };
}
