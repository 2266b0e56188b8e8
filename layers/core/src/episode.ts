import { AGENT_POLICY_MAX_LENGTH, agentLabelSchema, boundedReason, type AgentLabel } from './agent-label';
import { CoreError, type CoreErrorInfo } from './core-error';
import { freshModelProgress, MAX_STEPS, EPISODE_SCHEMA_VERSION, type EpisodeRecord, type ModelProgress } from './episode-record';
import { gradeEpisode } from './grade-episode';
import type { Grade, GradeInput } from './grading';
import { advanceSchedule, buildSchedule, learningRateAt, rescaleSchedule } from './lr-schedule';
import { buildObservation, remainingBudget } from './observation';
import { pythonRound } from './python-round';
import { stepReward, type RewardBreakdown } from './rewards';
import { getTask } from './tasks';
import { MAX_EPOCHS_PER_CALL, type ToolArguments, type ToolName } from './tool-catalogue';
import { assertToolName, parseToolArguments } from './tool-arguments';
import type { Trainer } from './trainer-port';
import { episodeSeedSchema, SEED_MAX } from './wire-contract';

export interface ToolCall {
  tool: string;
  arguments?: unknown;
  /** The agent's short reason, stored with the step (not part of the call's identity). */
  reason?: string;
}

/** Reported after every epoch a step trains, for progress displays. */
export interface EpochProgress {
  epoch: number;
  index: number;
  total: number;
  learning_rate: number;
  train_loss: number;
  train_accuracy: number;
  val_loss: number | null;
  val_accuracy: number | null;
  seconds: number;
  diverged: boolean;
}

export interface StepOptions {
  onEpoch?: (progress: EpochProgress) => void;
}

export interface StepResult {
  /** The episode after the step; the input record is never modified. */
  record: EpisodeRecord;
  tool: string;
  /** What the tool returns to the agent: a message, the observation and tool-specific fields. */
  data: Record<string, unknown>;
  error: CoreErrorInfo | null;
  reward: number;
  reward_breakdown: RewardBreakdown;
  done: boolean;
  /** Set on the step that ended the episode. */
  grade: Grade | null;
}

/** What a tool handler did, beyond the changes it made to the record. */
interface ToolEffect {
  message: string;
  extra?: Record<string, unknown>;
  epochsRecorded?: number;
  divergedThisStep?: boolean;
  submitted?: boolean;
}

type Handler<N extends ToolName> = (
  record: EpisodeRecord,
  args: ToolArguments<N>,
  trainer: Trainer,
  options: StepOptions,
) => Promise<ToolEffect>;

const LOGGED_ARGUMENTS_LIMIT = 2048;
const LOGGED_TOOL_NAME_LIMIT = 128;
const DIVERGENCE_LOSS_LIMIT = 100;

/** A new episode of this task, before its first step, labelled with who plays it where that is given. */
export function createEpisode(taskId: string, seed?: number, agent?: AgentLabel): EpisodeRecord {
  const task = getTask(taskId);
  const episodeSeed = seed ?? task.seed;
  if (!episodeSeedSchema.safeParse(episodeSeed).success) {
    throw new CoreError('invalid_arguments', `seed must be an integer from 0 to ${SEED_MAX}, got ${seed}.`, {
      field: 'seed',
    });
  }
  const label = agent === undefined ? undefined : parseAgentLabel(agent);
  return {
    schema_version: EPISODE_SCHEMA_VERSION,
    task_id: task.task_id,
    seed: episodeSeed,
    ...(label === undefined ? {} : { agent: label }),
    status: 'active',
    step_count: 0,
    max_steps: MAX_STEPS,
    budget_used: 0,
    config: null,
    schedule: null,
    model: freshModelProgress(0),
    total_reward: 0,
    steps: [],
    grade: null,
  };
}

function parseAgentLabel(agent: unknown): AgentLabel {
  const parsed = agentLabelSchema.safeParse(agent);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = ['agent', ...issue.path].join('.');
  throw new CoreError(
    'invalid_arguments',
    `${field}: ${issue.message}. An agent label is {policy (1-${AGENT_POLICY_MAX_LENGTH} chars), model?, version?} without control characters.`,
    { field },
  );
}

/** NaN, infinite, or a mean training loss above 100. */
export function isDivergedLoss(loss: number): boolean {
  return !Number.isFinite(loss) || loss > DIVERGENCE_LOSS_LIMIT;
}

export function gradeInputOf(record: EpisodeRecord): GradeInput {
  const m = record.model;
  return {
    task_id: record.task_id,
    current_epoch: m.current_epoch,
    best_val_accuracy: m.best_val_accuracy,
    best_val_epoch: m.best_val_epoch,
    train_loss_history: m.train_loss_history,
    val_loss_history: m.val_loss_history,
    train_acc_history: m.train_acc_history,
    val_acc_history: m.val_acc_history,
  };
}

function requireConfig(record: EpisodeRecord, tool: ToolName): NonNullable<EpisodeRecord['config']> {
  if (record.config === null || record.schedule === null) {
    throw new CoreError('not_configured', `${tool} needs a configuration first: call configure_training.`);
  }
  return record.config;
}

const configureTraining: Handler<'configure_training'> = async (record, config, trainer) => {
  const previous = record.config;
  const rebuild = previous === null || previous.dropout !== config.dropout;
  if (rebuild) {
    await trainer.buildModel(config);
    record.model = freshModelProgress(record.model.generation + 1);
  } else {
    await trainer.applyConfig(config, { keepOptimizerState: previous.optimizer === config.optimizer });
  }
  record.config = config;
  const unspent = remainingBudget(record);
  record.schedule = buildSchedule(config.lr_schedule, config.learning_rate, unspent, config.warmup_epochs);
  const what = previous === null ? 'Model built' : rebuild ? 'Dropout changed: fresh model built' : 'Configuration applied';
  return {
    message: `${what}; ${config.lr_schedule} schedule from lr ${config.learning_rate} over the ${unspent} unspent epochs.`,
    extra: { config, model_rebuilt: rebuild },
  };
};

function recordEpoch(model: ModelProgress, lr: number, train: { loss: number; accuracy: number }, val: { loss: number; accuracy: number }): boolean {
  model.current_epoch += 1;
  model.train_loss_history.push(train.loss);
  model.train_acc_history.push(train.accuracy);
  model.val_loss_history.push(val.loss);
  model.val_acc_history.push(val.accuracy);
  model.lr_history.push(lr);
  // Strict: the first epoch that reaches the maximum stays the best one.
  if (val.accuracy > model.best_val_accuracy) {
    model.best_val_accuracy = val.accuracy;
    model.best_val_epoch = model.current_epoch;
    return true;
  }
  return false;
}

function markDiverged(model: ModelProgress, trainLoss: number): void {
  model.diverged = true;
  model.diverged_train_loss = Number.isFinite(trainLoss) ? trainLoss : null;
}

/**
 * How many epochs a run_epochs call trains on this record: 0 when the model has diverged
 * or the budget is spent. Throws not_configured before the first configuration.
 */
function epochsToTrain(record: EpisodeRecord, args: ToolArguments<'run_epochs'>): number {
  requireConfig(record, 'run_epochs');
  if (record.model.diverged) return 0;
  const requested = Math.min(MAX_EPOCHS_PER_CALL, Math.max(1, args.num_epochs));
  return Math.min(requested, remainingBudget(record));
}

const runEpochs: Handler<'run_epochs'> = async (record, args, trainer, options) => {
  const epochs = epochsToTrain(record, args);
  const model = record.model;
  if (model.diverged) {
    return {
      message: 'Training has diverged; nothing was trained. Only a configure_training call that changes dropout builds a fresh model.',
      extra: { epochs_just_trained: 0, epoch_time_seconds: 0 },
    };
  }
  if (epochs === 0) {
    return { message: 'The epoch budget is spent; nothing was trained.', extra: { epochs_just_trained: 0, epoch_time_seconds: 0 } };
  }
  let spent = 0;
  let recorded = 0;
  let seconds = 0;
  let diverged = false;
  for (let index = 1; index <= epochs; index++) {
    const lr = learningRateAt(record.schedule!);
    const train = await trainer.trainEpoch(lr);
    spent += 1;
    record.budget_used += 1;
    record.schedule = advanceSchedule(record.schedule!);
    seconds += train.seconds;
    const val = isDivergedLoss(train.loss) ? null : await trainer.evaluate();
    // A non-finite validation loss cannot be recorded (or graded) either: the model has diverged.
    if (val === null || !Number.isFinite(val.loss)) {
      markDiverged(model, train.loss);
      diverged = true;
    } else {
      seconds += val.seconds;
      // Stryker disable next-line AssignmentOperator: the rewards only ask whether a step recorded any epoch (=== 0), so a count of -n reads as n.
      recorded += 1;
      if (recordEpoch(model, lr, train, val)) await trainer.keepBestWeights();
    }
    options.onEpoch?.({
      epoch: model.current_epoch,
      index,
      total: epochs,
      learning_rate: lr,
      train_loss: train.loss,
      train_accuracy: train.accuracy,
      val_loss: val?.loss ?? null,
      val_accuracy: val?.accuracy ?? null,
      seconds: train.seconds + (val?.seconds ?? 0),
      diverged,
    });
    if (diverged) break;
  }
  const clampedNote = epochs < args.num_epochs ? ` (asked for ${args.num_epochs}, clamped to ${epochs})` : '';
  return {
    message: diverged
      ? `Training diverged in epoch ${spent} of this call${clampedNote}: that epoch is not recorded and this model trains no more.`
      : `Trained ${spent} epoch${spent === 1 ? '' : 's'}${clampedNote}.`,
    extra: { epochs_just_trained: spent, epoch_time_seconds: pythonRound(seconds / spent, 3) },
    epochsRecorded: recorded,
    divergedThisStep: diverged,
  };
};

const adjustLearningRate: Handler<'adjust_learning_rate'> = async (record, args) => {
  requireConfig(record, 'adjust_learning_rate');
  record.schedule = rescaleSchedule(record.schedule!, args.new_lr);
  return {
    message: `The next epoch trains at lr ${args.new_lr}; the ${record.schedule.kind} schedule continues from there.`,
    extra: { learning_rate_next_epoch: learningRateAt(record.schedule) },
  };
};

const toggleAugmentation: Handler<'toggle_augmentation'> = async (record, args, trainer) => {
  const config = requireConfig(record, 'toggle_augmentation');
  const strength = Math.min(1, Math.max(0, args.strength));
  await trainer.setAugmentation({ enabled: args.enabled, strength });
  record.config = { ...config, augmentation: args.enabled, augmentation_strength: strength };
  return {
    message: args.enabled ? `Augmentation on at strength ${strength}.` : 'Augmentation off.',
    extra: { augmentation: args.enabled, augmentation_strength: strength },
  };
};

const getTrainingStatus: Handler<'get_training_status'> = async (record) => ({
  message: record.config === null ? 'Not configured yet: call configure_training.' : 'Current status.',
  extra: {
    config: record.config,
    learning_rate_next_epoch: record.schedule === null ? null : learningRateAt(record.schedule),
  },
});

function submit(record: EpisodeRecord, status: 'submitted' | 'auto_submitted'): Grade {
  const grade = gradeEpisode(gradeInputOf(record));
  record.status = status;
  record.grade = grade;
  return grade;
}

/**
 * Ends an active episode the way the step limit does (status auto_submitted, graded on the
 * best validation accuracy of the current model), for an episode abandoned before its last
 * step. No step is taken, so no reward is paid.
 */
export function autoSubmitEpisode(record: EpisodeRecord): { record: EpisodeRecord; grade: Grade } {
  if (record.status !== 'active') {
    throw new CoreError('episode_over', `The episode is over (${record.status}); it cannot be auto-submitted.`);
  }
  const next = structuredClone(record);
  return { record: next, grade: submit(next, 'auto_submitted') };
}

const submitModel: Handler<'submit_model'> = async (record) => {
  const grade = submit(record, 'submitted');
  return { message: `Submitted. Score ${grade.score}.`, extra: { grade }, submitted: true };
};

const HANDLERS: { [N in ToolName]: Handler<N> } = {
  configure_training: configureTraining,
  run_epochs: runEpochs,
  adjust_learning_rate: adjustLearningRate,
  toggle_augmentation: toggleAugmentation,
  get_training_status: getTrainingStatus,
  submit_model: submitModel,
};

async function runTool(record: EpisodeRecord, call: ToolCall, trainer: Trainer, options: StepOptions): Promise<ToolEffect> {
  const tool = call.tool;
  assertToolName(tool);
  const args = parseToolArguments(tool, call.arguments);
  return (HANDLERS[tool] as Handler<typeof tool>)(record, args, trainer, options);
}

/**
 * How many epochs executing this call on this record trains: run_epochs' own clamping (1 to
 * MAX_EPOCHS_PER_CALL, the unspent budget), 0 for any other call, a call the core rejects
 * (bad arguments, no configuration), an ended episode or a diverged model.
 */
export function epochsThisCallTrains(record: EpisodeRecord, call: ToolCall): number {
  if (record.status !== 'active' || call.tool !== 'run_epochs') return 0;
  try {
    return epochsToTrain(record, parseToolArguments('run_epochs', call.arguments));
  } catch (error) {
    // Stryker disable next-line ConditionalExpression: epochsToTrain and parseToolArguments throw only CoreError, so the rethrow below is a guard no input reaches
    if (error instanceof CoreError) return 0;
    throw error;
  }
}

/**
 * Whether executing this call on this record makes a pass over the training data
 * (Trainer.trainEpoch / evaluate): a run_epochs call with valid arguments on an active,
 * configured episode with a live model and unspent budget. Every other call (a rejected one
 * included) touches the trainer at most through calls a RecordingTrainer can keep
 * (trainer-operations.ts). The cloud routes by this, and only this, decision.
 */
export function needsTrainingData(record: EpisodeRecord, call: ToolCall): boolean {
  return epochsThisCallTrains(record, call) > 0;
}

function loggedArguments(args: unknown): unknown {
  const text = JSON.stringify(args ?? {}) ?? 'null';
  return text.length <= LOGGED_ARGUMENTS_LIMIT ? JSON.parse(text) : { omitted: `arguments of ${text.length} characters` };
}

/**
 * The answer to any call on an episode that has ended (status not active): episode_over, no
 * reward, the record unchanged. executeStep gives this answer; so may a caller that has no
 * trainer at hand, since the call never reaches one.
 */
export function episodeOverResult(record: EpisodeRecord, call: ToolCall): StepResult {
  const error = new CoreError('episode_over', `The episode is over (${record.status}); no tool can be called any more.`).toInfo();
  const breakdown = stepReward({
    taskId: record.task_id,
    before: record.model,
    after: record.model,
    epochsRecorded: 0,
    divergedThisStep: false,
    submissionScore: null,
  });
  return {
    record,
    tool: call.tool,
    data: { message: error.message, error, ...buildObservation(record) },
    error,
    reward: 0,
    reward_breakdown: breakdown,
    done: true,
    grade: null,
  };
}

/**
 * Executes one tool call. Every call while the episode is active is a step, an
 * invalid one too; the 15th step auto-submits. Errors the agent caused come back
 * in the result; any other exception (a trainer fault) propagates and the caller
 * keeps its previous record and checkpoint.
 */
export async function executeStep(
  record: EpisodeRecord,
  call: ToolCall,
  trainer: Trainer,
  options: StepOptions = {},
): Promise<StepResult> {
  if (record.status !== 'active') return episodeOverResult(record, call);
  const next = structuredClone(record);
  next.step_count += 1;
  const before = structuredClone(next.model);
  let effect: ToolEffect;
  let error: CoreErrorInfo | null = null;
  try {
    effect = await runTool(next, call, trainer, options);
  } catch (e) {
    if (!(e instanceof CoreError)) throw e;
    error = e.toInfo();
    effect = { message: error.message };
  }
  let grade = effect.submitted ? next.grade : null;
  if (next.status === 'active' && next.step_count >= next.max_steps) grade = submit(next, 'auto_submitted');
  const breakdown = stepReward({
    taskId: next.task_id,
    before,
    after: next.model,
    epochsRecorded: effect.epochsRecorded ?? 0,
    divergedThisStep: effect.divergedThisStep ?? false,
    submissionScore: grade?.score ?? null,
  });
  next.total_reward = pythonRound(next.total_reward + breakdown.total, 4);
  next.steps.push({
    step: next.step_count,
    tool: String(call.tool).slice(0, LOGGED_TOOL_NAME_LIMIT),
    arguments: loggedArguments(call.arguments),
    reward: breakdown.total,
    error,
    epochs_trained: (effect.extra?.epochs_just_trained as number | undefined) ?? 0,
    model_generation: next.model.generation,
    ...storedReason(call.reason),
  });
  const autoSubmitted = next.status === 'auto_submitted';
  const data: Record<string, unknown> = {
    message: autoSubmitted ? `${effect.message} Step limit reached: the episode was auto-submitted (score ${grade!.score}).` : effect.message,
    ...(error ? { error } : {}),
    ...buildObservation(next),
    ...effect.extra,
    ...(autoSubmitted ? { grade, auto_submitted: true } : {}),
  };
  return {
    record: next,
    tool: String(call.tool),
    data,
    error,
    reward: breakdown.total,
    reward_breakdown: breakdown,
    done: next.status !== 'active',
    grade,
  };
}

/** Interfaces refuse an over-long reason; here a reason from any caller is bounded, never refused (it is not part of the call). */
function storedReason(reason: unknown): { reason?: string } {
  const text = typeof reason === 'string' ? boundedReason(reason) : undefined;
  return text === undefined ? {} : { reason: text };
}
