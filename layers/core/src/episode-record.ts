import { z } from 'zod';
import { agentLabelSchema, stepReasonSchema } from './agent-label';
import { CoreError } from './core-error';
import { findTaskModule, taskIdSchema } from './tasks/registry';
import { LR_SCHEDULES, trainingConfigSchema } from './training-config';

export const EPISODE_SCHEMA_VERSION = 1;
export const MAX_STEPS = 15;

const finite = z.number().finite();
const count = z.number().int().min(0);

const lrScheduleSchema = z.object({
  kind: z.enum(LR_SCHEDULES),
  base_lr: finite,
  total_epochs: count,
  warmup_epochs: count,
  /** Epochs trained since the schedule was built. */
  position: count,
  /** Set by adjust_learning_rate: the schedule's value at this position is exactly lr. */
  anchor: z.object({ position: count, lr: finite }).nullable(),
});

/** The current model's training history; a dropout change starts a new one. */
const modelProgressSchema = z.object({
  /** 0 before the first configure_training; +1 for every freshly built model. */
  generation: count,
  current_epoch: count,
  train_loss_history: z.array(finite),
  val_loss_history: z.array(finite),
  train_acc_history: z.array(finite),
  val_acc_history: z.array(finite),
  /** The learning rate each recorded epoch trained with. */
  lr_history: z.array(finite),
  best_val_accuracy: finite,
  best_val_epoch: count,
  diverged: z.boolean(),
  /** The diverged epoch's mean training loss; null where it was not finite. */
  diverged_train_loss: finite.nullable(),
});

const coreErrorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
  allowed: z.unknown().optional(),
});

const stepLogEntrySchema = z.object({
  step: count,
  tool: z.string(),
  /** The arguments as the agent sent them (large ones are replaced by a marker). */
  arguments: z.unknown(),
  reward: finite,
  error: coreErrorInfoSchema.nullable(),
  epochs_trained: count,
  /** Which model the step acted on (see generation). */
  model_generation: count,
  /** The agent's short reason for the call, when it gave one. */
  reason: stepReasonSchema.optional(),
});

const gradeSchema = z.object({ score: finite, details: z.record(z.string(), finite) });

/**
 * Everything an episode is, as one plain JSON-serialisable value: a step can be
 * executed by a process that did not run the previous one, given this record and
 * the trainer's checkpoint. The grader reads only this record.
 */
export const episodeRecordSchema = z.object({
  schema_version: z.literal(EPISODE_SCHEMA_VERSION),
  task_id: taskIdSchema,
  seed: count,
  /** Who plays the episode, as given when it was created (absent: unlabelled). */
  agent: agentLabelSchema.optional(),
  status: z.enum(['active', 'submitted', 'auto_submitted']),
  step_count: count,
  max_steps: count,
  /** Epochs spent in the whole episode, over all models; never refunded. */
  budget_used: count,
  config: trainingConfigSchema.nullable(),
  schedule: lrScheduleSchema.nullable(),
  model: modelProgressSchema,
  total_reward: finite,
  steps: z.array(stepLogEntrySchema),
  grade: gradeSchema.nullable(),
}).superRefine(refuseImpossibleValues);

type RecordShape = {
  task_id: string;
  status: string;
  step_count: number;
  max_steps: number;
  budget_used: number;
  model: z.infer<typeof modelProgressSchema>;
  steps: unknown[];
  grade: unknown;
};

const HISTORIES = ['train_loss_history', 'val_loss_history', 'train_acc_history', 'val_acc_history', 'lr_history'] as const;

/**
 * What no sequence of steps can produce: a stored record (a state file, a table item) that
 * says so was edited or damaged, and executing a step on it would compute nonsense.
 */
function refuseImpossibleValues(record: RecordShape, ctx: z.RefinementCtx): void {
  // Stryker disable next-line StringLiteral: zod requires the code 'custom' of a refinement's issue, and parseEpisodeRecord reports only its path and message
  const refuse = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (record.max_steps !== MAX_STEPS) refuse(['max_steps'], `must be ${MAX_STEPS}, got ${record.max_steps}`);
  if (record.step_count > record.max_steps) refuse(['step_count'], `must be at most max_steps (${record.max_steps}), got ${record.step_count}`);
  if (record.steps.length !== record.step_count) {
    refuse(['steps'], `must hold one entry per step (step_count ${record.step_count}), got ${record.steps.length}`);
  }
  // zod runs this refinement only when every field parsed, task_id (a known task) among them, so the
  // task is always found; the checks are for the type.
  // Stryker disable next-line OptionalChaining: unreachable with an unknown task_id (see above)
  const budget = findTaskModule(record.task_id)?.definition.max_epochs;
  // Stryker disable next-line ConditionalExpression: unreachable with an unknown task_id (see above)
  if (budget !== undefined && record.budget_used > budget) {
    refuse(['budget_used'], `must be at most the task's epoch budget (${budget}), got ${record.budget_used}`);
  }
  const model = record.model;
  for (const history of HISTORIES) {
    if (model[history].length !== model.current_epoch) {
      refuse(['model', history], `must hold one value per epoch of the model (current_epoch ${model.current_epoch}), got ${model[history].length}`);
    }
  }
  if (model.current_epoch > record.budget_used) {
    refuse(['model', 'current_epoch'], `must be at most budget_used (${record.budget_used}), got ${model.current_epoch}`);
  }
  if (model.best_val_epoch > model.current_epoch) {
    refuse(['model', 'best_val_epoch'], `must be at most current_epoch (${model.current_epoch}), got ${model.best_val_epoch}`);
  }
  if ((record.status === 'active') !== (record.grade === null)) {
    refuse(['grade'], `must be null exactly while the episode is active (status ${record.status})`);
  }
}

export type EpisodeRecord = z.infer<typeof episodeRecordSchema>;
export type ModelProgress = z.infer<typeof modelProgressSchema>;
export type StepLogEntry = z.infer<typeof stepLogEntrySchema>;
export type EpisodeStatus = EpisodeRecord['status'];
export type LrScheduleState = z.infer<typeof lrScheduleSchema>;

export function freshModelProgress(generation: number): ModelProgress {
  return {
    generation,
    current_epoch: 0,
    train_loss_history: [],
    val_loss_history: [],
    train_acc_history: [],
    val_acc_history: [],
    lr_history: [],
    best_val_accuracy: 0,
    best_val_epoch: 0,
    diverged: false,
    diverged_train_loss: null,
  };
}

/** Reads a stored record, refusing other schema versions and malformed content with a message naming the field. */
export function parseEpisodeRecord(value: unknown): EpisodeRecord {
  const version = (value as { schema_version?: unknown } | null)?.schema_version;
  if (version !== EPISODE_SCHEMA_VERSION) {
    throw new CoreError(
      'invalid_record',
      `Episode record has schema_version ${JSON.stringify(version)}; this version reads schema_version ${EPISODE_SCHEMA_VERSION}.`,
    );
  }
  const parsed = episodeRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CoreError('invalid_record', `Invalid episode record: ${issues.join('; ')}`);
  }
  return parsed.data;
}
