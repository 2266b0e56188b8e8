import {
  agentLabelKey,
  getTask,
  getTaskModule,
  gradeEpisode,
  gradeInputOf,
  type AgentLabel,
  type EpisodeRecord,
  type StepLogEntry,
  type TaskId,
  type TrainingConfig,
} from '../../core/src';
import type { EpisodeUsage, EpisodeView } from '../../episodes/src';

/**
 * The episode report's data (its "JSON twin"): everything the HTML report shows, derived
 * from an EpisodeRecord alone (plus what the service knows: id, times, usage). Pure and
 * deterministic: the same input gives the same report, with no clock and no I/O.
 *
 * Epochs are numbered over the whole episode (1 … budget used), since the budget is per
 * episode. The record keeps only the CURRENT model's histories (a dropout change builds a
 * fresh model and starts them over), so `epochs` holds the current generation's epochs
 * only; `generations` says which budget epochs earlier models spent, and the timeline keeps
 * every step, earlier generations' too.
 */
export const EPISODE_REPORT_VERSION = 1;

export interface EpisodeReportTask {
  task_id: TaskId;
  name: string;
  difficulty: 'easy' | 'medium' | 'hard';
  model_type: string;
  dataset_name: string;
  epoch_budget: number;
  target_value: number;
  /** Accuracy at which the accuracy score is 0, and 1. */
  score_0_at: number;
  score_1_at: number;
}

export interface EpochPoint {
  /** 1-based over the episode's budget (all models). */
  epoch: number;
  /** 1-based within its model. */
  model_epoch: number;
  generation: number;
  train_loss: number;
  val_loss: number;
  train_accuracy: number;
  val_accuracy: number;
  /** The learning rate the epoch trained with. */
  lr: number;
  is_best: boolean;
}

export interface TimelineEntry {
  step: number;
  tool: string;
  /** As the agent sent them (large ones replaced by a marker in the record). */
  arguments: unknown;
  reward: number;
  error: StepLogEntry['error'];
  epochs_trained: number;
  /** The episode epochs this step spent, inclusive; null when it trained none. */
  epoch_range: { from: number; to: number } | null;
  model_generation: number;
  /** True for steps of a model that a later dropout change replaced (its curves are gone). */
  earlier_model: boolean;
  /** The agent's short reason for the call, as stored with the step; null when it gave none. */
  reason: string | null;
}

/** Who played the episode: its label's parts and the key episodes are grouped by. */
export interface ReportAgent extends AgentLabel {
  /** agentLabelKey of the label: "llm gpt-4o-mini @v3". */
  key: string;
}

export type MarkerKind = 'model_built' | 'model_rebuilt' | 'config' | 'learning_rate' | 'augmentation';

/** A configuration change, placed at the first epoch it applied to. */
export interface ConfigMarker {
  step: number;
  tool: 'configure_training' | 'adjust_learning_rate' | 'toggle_augmentation';
  kind: MarkerKind;
  /** The episode epoch from which the change applied (budget used before the step + 1). */
  epoch: number;
  /** The same epoch within the current model; null when the change belongs to an earlier model. */
  model_epoch: number | null;
  generation: number;
  /** False when no epoch has trained since the change. */
  trained_after: boolean;
  /** Short text for the chart: "lr 0.01", "aug on 0.5", "new model"… */
  label: string;
  /** One line for tables and tooltips. */
  summary: string;
}

export interface GenerationInfo {
  generation: number;
  current: boolean;
  /** Budget epochs this model spent (a diverged epoch included). */
  epochs_spent: number;
  /** Its episode epochs, inclusive; null when it trained none. */
  epoch_range: { from: number; to: number } | null;
  steps: number[];
}

export interface GradeComponent {
  key: string;
  label: string;
  value: number;
  weight: number;
  /** weight × value. */
  contribution: number;
}

export interface ReportGrade {
  score: number;
  /** True once the episode ended; otherwise the grade it would get if submitted now. */
  final: boolean;
  details: Record<string, number>;
  /** The weighted sub-scores whose sum is the score (before rounding). */
  components: GradeComponent[];
  /** The measured quantities the sub-scores come from. */
  inputs: { key: string; label: string; value: number }[];
  formula: string;
}

export interface EpisodeReport {
  report_version: typeof EPISODE_REPORT_VERSION;
  episode_id: string | null;
  tenant: string | null;
  created_at: string | null;
  updated_at: string | null;
  /** The service's version of the episode (+1 per committed step); null for a bare record. */
  version: number | null;
  task: EpisodeReportTask;
  seed: number;
  /** The agent label the episode was created with; null when it was started without one ("unlabelled"). */
  agent: ReportAgent | null;
  status: EpisodeRecord['status'];
  summary: {
    steps_used: number;
    max_steps: number;
    epochs_used: number;
    epoch_budget: number;
    epochs_remaining: number;
    total_reward: number;
    best_val_accuracy: number;
    /** Episode epoch of the best validation accuracy; null before any epoch. */
    best_epoch: number | null;
    diverged: boolean;
  };
  /** The configuration now in force; null before configure_training. */
  config: TrainingConfig | null;
  /** The model whose epochs `epochs` holds. */
  curves: { generation: number; first_epoch: number; note: string | null };
  generations: GenerationInfo[];
  epochs: EpochPoint[];
  best: { epoch: number; model_epoch: number; val_accuracy: number; val_loss: number } | null;
  /** The current model's diverged epoch (spent, not recorded). */
  diverged: { epoch: number; model_epoch: number; train_loss: number | null } | null;
  markers: ConfigMarker[];
  timeline: TimelineEntry[];
  /**
   * The last step a broken checkpoint refused (training tools answer checkpoint_unavailable
   * until the episode ends; the grade still comes from the recorded metrics); null if none.
   */
  checkpoint_unavailable: { step: number; tool: string; message: string } | null;
  grade: ReportGrade;
  usage: EpisodeUsage | null;
}

export interface EpisodeReportInput {
  record: EpisodeRecord;
  episodeId?: string | null;
  tenant?: string | null;
  usage?: EpisodeUsage | null;
  createdAt?: string | null;
  updatedAt?: string | null;
  version?: number | null;
}

const CONFIG_TOOLS = new Set(['configure_training', 'adjust_learning_rate', 'toggle_augmentation']);

export function buildEpisodeReport(input: EpisodeReportInput): EpisodeReport {
  const { record } = input;
  const task = getTask(record.task_id);
  const model = record.model;

  // Episode epochs spent before each step (the budget is spent in step order).
  const spentBefore: number[] = [];
  let spent = 0;
  for (const entry of record.steps) {
    spentBefore.push(spent);
    spent += entry.epochs_trained;
  }
  const earlierSpent = record.steps.filter((s) => s.model_generation < model.generation).reduce((sum, s) => sum + s.epochs_trained, 0);
  const firstEpoch = earlierSpent + 1;

  const bestModelEpoch = model.best_val_epoch > 0 ? model.best_val_epoch : null;
  const epochs: EpochPoint[] = model.val_acc_history.map((valAccuracy, i) => ({
    epoch: firstEpoch + i,
    model_epoch: i + 1,
    generation: model.generation,
    train_loss: model.train_loss_history[i]!,
    val_loss: model.val_loss_history[i]!,
    train_accuracy: model.train_acc_history[i]!,
    val_accuracy: valAccuracy,
    lr: model.lr_history[i]!,
    is_best: bestModelEpoch === i + 1,
  }));

  const timeline: TimelineEntry[] = record.steps.map((entry, i) => ({
    step: entry.step,
    tool: entry.tool,
    arguments: entry.arguments,
    reward: entry.reward,
    error: entry.error,
    epochs_trained: entry.epochs_trained,
    epoch_range: entry.epochs_trained > 0 ? { from: spentBefore[i]! + 1, to: spentBefore[i]! + entry.epochs_trained } : null,
    model_generation: entry.model_generation,
    earlier_model: entry.model_generation > 0 && entry.model_generation < model.generation,
    reason: entry.reason ?? null,
  }));

  const markers: ConfigMarker[] = [];
  record.steps.forEach((entry, i) => {
    if (entry.error !== null || !CONFIG_TOOLS.has(entry.tool)) return;
    const previousGeneration = i === 0 ? 0 : record.steps[i - 1]!.model_generation;
    const epoch = spentBefore[i]! + 1;
    const current = entry.model_generation === model.generation;
    markers.push({
      step: entry.step,
      tool: entry.tool as ConfigMarker['tool'],
      ...describeChange(entry, previousGeneration),
      epoch,
      model_epoch: current ? epoch - earlierSpent : null,
      generation: entry.model_generation,
      trained_after: epoch <= record.budget_used,
    });
  });

  const generations: GenerationInfo[] = [];
  for (const [i, entry] of record.steps.entries()) {
    if (entry.model_generation === 0) continue;
    let info = generations.find((g) => g.generation === entry.model_generation);
    if (!info) {
      info = { generation: entry.model_generation, current: entry.model_generation === model.generation, epochs_spent: 0, epoch_range: null, steps: [] };
      generations.push(info);
    }
    info.steps.push(entry.step);
    if (entry.epochs_trained > 0) {
      info.epochs_spent += entry.epochs_trained;
      const from = info.epoch_range?.from ?? spentBefore[i]! + 1;
      info.epoch_range = { from, to: spentBefore[i]! + entry.epochs_trained };
    }
  }

  const best =
    bestModelEpoch === null
      ? null
      : {
          epoch: firstEpoch + bestModelEpoch - 1,
          model_epoch: bestModelEpoch,
          val_accuracy: model.val_acc_history[bestModelEpoch - 1]!,
          val_loss: model.val_loss_history[bestModelEpoch - 1]!,
        };

  const diverged = model.diverged
    ? { epoch: earlierSpent + model.current_epoch + 1, model_epoch: model.current_epoch + 1, train_loss: model.diverged_train_loss }
    : null;

  const earlier = generations.filter((g) => !g.current);
  const discardedEpochs = earlier.reduce((sum, g) => sum + g.epochs_spent, 0);
  const note =
    earlier.length === 0
      ? null
      : `The curves show model ${model.generation}, built at step ${generations.find((g) => g.current)?.steps[0] ?? '?'} ` +
        `(a dropout change builds a fresh model). ${plural(earlier.length, 'earlier model')} spent ${plural(discardedEpochs, 'epoch')} ` +
        'of the budget; their curves are not kept, their steps are in the timeline.';

  return {
    report_version: EPISODE_REPORT_VERSION,
    episode_id: input.episodeId ?? null,
    tenant: input.tenant ?? null,
    created_at: input.createdAt ?? null,
    updated_at: input.updatedAt ?? null,
    version: input.version ?? null,
    task: {
      task_id: task.task_id,
      name: task.name,
      difficulty: task.difficulty,
      model_type: task.model_type,
      dataset_name: task.dataset_name,
      epoch_budget: task.max_epochs,
      target_value: task.target_value,
      score_0_at: task.min_score_accuracy,
      score_1_at: task.max_score_accuracy,
    },
    seed: record.seed,
    agent: record.agent === undefined ? null : { ...record.agent, key: agentLabelKey(record.agent) },
    status: record.status,
    summary: {
      steps_used: record.step_count,
      max_steps: record.max_steps,
      epochs_used: record.budget_used,
      epoch_budget: task.max_epochs,
      epochs_remaining: Math.max(0, task.max_epochs - record.budget_used),
      total_reward: record.total_reward,
      best_val_accuracy: model.best_val_accuracy,
      best_epoch: best?.epoch ?? null,
      diverged: model.diverged,
    },
    config: record.config,
    curves: { generation: model.generation, first_epoch: firstEpoch, note },
    generations,
    epochs,
    best,
    diverged,
    markers,
    timeline,
    checkpoint_unavailable: lastCheckpointFailure(record),
    grade: reportGrade(record),
    usage: input.usage ?? null,
  };
}

/** The report of an episode as the service returns it (or the REST API's episode body). */
export function episodeReportFromView(view: Pick<EpisodeView, 'record' | 'episode_id' | 'usage' | 'created_at' | 'updated_at' | 'version'> & { tenant?: string }): EpisodeReport {
  return buildEpisodeReport({
    record: view.record,
    episodeId: view.episode_id,
    tenant: view.tenant ?? null,
    usage: view.usage,
    createdAt: view.created_at,
    updatedAt: view.updated_at,
    version: view.version,
  });
}

function lastCheckpointFailure(record: EpisodeRecord): EpisodeReport['checkpoint_unavailable'] {
  const entry = [...record.steps].reverse().find((s) => s.error?.code === 'checkpoint_unavailable');
  return entry === undefined ? null : { step: entry.step, tool: entry.tool, message: entry.error!.message };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function args(entry: StepLogEntry): Record<string, unknown> {
  const a = entry.arguments;
  return a !== null && typeof a === 'object' && !Array.isArray(a) ? (a as Record<string, unknown>) : {};
}

function shortNumber(value: unknown): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(4))) : String(value);
}

function describeChange(entry: StepLogEntry, previousGeneration: number): Pick<ConfigMarker, 'kind' | 'label' | 'summary'> {
  const a = args(entry);
  const listed = Object.entries(a)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? shortNumber(v) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  switch (entry.tool) {
    case 'adjust_learning_rate':
      return { kind: 'learning_rate', label: `lr ${shortNumber(a.new_lr)}`, summary: `learning rate set to ${shortNumber(a.new_lr)}` };
    case 'toggle_augmentation': {
      const on = a.enabled === undefined ? true : a.enabled === true;
      const strength = a.strength === undefined ? 0.5 : a.strength;
      return on
        ? { kind: 'augmentation', label: `aug ${shortNumber(strength)}`, summary: `augmentation on, strength ${shortNumber(strength)}` }
        : { kind: 'augmentation', label: 'aug off', summary: 'augmentation off' };
    }
    default: {
      const built = entry.model_generation > previousGeneration;
      const kind: MarkerKind = built ? (previousGeneration === 0 ? 'model_built' : 'model_rebuilt') : 'config';
      const label = kind === 'model_built' ? 'configured' : kind === 'model_rebuilt' ? `new model ${entry.model_generation}` : 'config';
      const what = kind === 'model_built' ? 'model built' : kind === 'model_rebuilt' ? `fresh model ${entry.model_generation} (dropout changed)` : 'configuration applied';
      return { kind, label, summary: listed ? `${what}: ${listed}` : `${what} (defaults)` };
    }
  }
}

function reportGrade(record: EpisodeRecord): ReportGrade {
  const final = record.grade !== null;
  const grade = record.grade ?? gradeEpisode(gradeInputOf(record));
  const { grader } = getTaskModule(record.task_id);
  const components = grader.components.map(({ key, label, weight }) => {
    const value = grade.details[key] ?? 0;
    return { key, label, value, weight, contribution: Number((weight * value).toFixed(6)) };
  });
  const inputs = Object.entries(grade.details)
    .filter(([key]) => !grader.components.some((c) => c.key === key))
    .map(([key, value]) => ({ key, label: grader.inputs.find((i) => i.key === key)?.label ?? key, value }));
  return { score: grade.score, final, details: { ...grade.details }, components, inputs, formula: grader.formula };
}
