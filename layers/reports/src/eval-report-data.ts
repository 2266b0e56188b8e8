import type { AgentLabel } from '../../core/src';

/**
 * What an eval report shows: the agent evaluated, and per task the summary with its
 * confidence interval, the comparison rows and every episode with its curves. `ml-trainer
 * eval` builds it from its results; renderEvalReportHtml draws it.
 */
export interface EvalReportData {
  title: string;
  /** ISO 8601. */
  generated_at: string;
  agent: AgentLabel;
  /** Where the episodes ran: "in-process" or the server's URL. */
  environment: string;
  /** The command line that produced it, for the reader to repeat it. */
  command: string;
  /** The bootstrap's settings, stated under the table. */
  confidence: { level: number; resamples: number; seed: number };
  tasks: EvalTaskData[];
  /** Totals over the whole eval, where known. */
  totals: EvalTotals;
}

export interface EvalTotals {
  episodes: number;
  wall_seconds: number;
  episodes_per_hour: number;
  /** Server-reported cost of all episodes, USD (null where the server reports no usage). */
  cost_usd: number | null;
  /** Estimated model (LLM) cost, USD (null for policies without a model or without prices). */
  model_cost_usd: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** A mean with its confidence interval. */
export interface Interval {
  mean: number;
  low: number;
  high: number;
}

export interface EvalTaskData {
  task_id: string;
  max_epochs: number;
  summary: EvalTaskSummary;
  /** The same seeds played by a reference policy (default, baseline), and the difference to it. */
  comparisons: EvalComparison[];
  episodes: EvalEpisodeData[];
}

export interface EvalTaskSummary {
  episodes: number;
  score: Interval;
  median: number;
  min: number;
  max: number;
  mean_epochs_used: number;
  mean_steps: number;
  /** null where the environment does not report training time. */
  mean_training_seconds: number | null;
  mean_cost_usd: number | null;
  mean_model_cost_usd: number | null;
}

export interface EvalComparison {
  policy: string;
  episodes: number;
  score: Interval;
  /** This eval's mean minus the reference's, over the seeds both played (paired bootstrap). */
  difference: Interval;
}

export interface EvalEpisodeData {
  seed: number;
  episode_id: string;
  /** null when the episode ended without a grade (failed). */
  score: number | null;
  status: string;
  epochs_used: number;
  steps: number;
  /** The final model's per-epoch validation accuracy and loss (the curves overlaid). */
  val_accuracy: number[];
  val_loss: number[];
  /** A link to the episode's own report, where there is one. */
  report_href: string | null;
  /** Why an episode failed, when it did. */
  error?: string;
}
