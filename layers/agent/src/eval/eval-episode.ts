import { z } from 'zod';
import type { ModelUsage } from '../policy';

const count = z.number().int().min(0);
const modelUsageSchema = z.object({
  model: z.string(),
  requests: count,
  retries: count,
  prompt_tokens: count,
  completion_tokens: count,
}) satisfies z.ZodType<ModelUsage>;

/**
 * What an eval keeps of one finished (or failed) episode: a journal line, a JSON line, a
 * report row. The schema reads a journal back (--resume).
 */
export const evalEpisodeSchema = z.object({
  task_id: z.string(),
  seed: count,
  /** Empty when the episode failed before the environment created it. */
  episode_id: z.string(),
  /** The grade's score; null when the episode failed or ended without this client seeing its grade. */
  score: z.number().finite().nullable(),
  /** submitted, auto_submitted, ended, or failed. */
  status: z.string(),
  epochs_used: count,
  steps: count,
  /** Seconds the episode's steps spent training; null where the environment does not say. */
  training_seconds: z.number().finite().min(0).nullable(),
  model_usage: modelUsageSchema.optional(),
  /** The model usage priced with the eval's prices; null without prices or without a model. */
  model_cost_usd: z.number().finite().min(0).nullable(),
  /** The final model's per-epoch validation accuracy and loss. */
  val_accuracy: z.array(z.number()),
  val_loss: z.array(z.number()),
  /** Why the episode failed, when it did. */
  error: z.string().optional(),
});

export type EvalEpisode = z.infer<typeof evalEpisodeSchema>;

/** Prices of a chat model, USD per million tokens. */
export interface ModelPrices {
  input_usd_per_mtok: number;
  output_usd_per_mtok: number;
}

/** The estimated cost of a model's usage; null without prices or usage. */
export function modelCostUsd(usage: ModelUsage | undefined, prices: ModelPrices | undefined): number | null {
  if (!usage || !prices) return null;
  const usd = (usage.prompt_tokens * prices.input_usd_per_mtok + usage.completion_tokens * prices.output_usd_per_mtok) / 1e6;
  return Math.round(usd * 1e8) / 1e8;
}

/**
 * --max-cost: may another episode start? Not once what finished episodes cost, plus the
 * running ones and the new one at the mean cost so far, would exceed the limit. Before
 * any episode has finished the mean is unknown and episodes start (up to the concurrency).
 */
export function withinCostLimit(input: { spentUsd: number; finished: number; running: number; maxUsd: number }): boolean {
  const { spentUsd, finished, running, maxUsd } = input;
  if (finished === 0) return spentUsd <= maxUsd;
  const meanUsd = spentUsd / finished;
  return spentUsd + (running + 1) * meanUsd <= maxUsd;
}
