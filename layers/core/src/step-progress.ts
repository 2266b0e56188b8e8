import { z } from 'zod';
import type { EpochProgress } from './episode';
import { MAX_EPOCHS_PER_CALL } from './tool-catalogue';

/**
 * A running step's epochs as a remote client reads them (GET /v1/episodes/{id}/steps/{step_id}
 * answers it as `progress` while the step runs): the local server keeps it in memory, the
 * cloud's training Lambda writes it into the step's item after every epoch. Bounded: the last
 * STEP_PROGRESS_MAX_EPOCHS epochs (a step trains at most MAX_EPOCHS_PER_CALL).
 */
export const STEP_PROGRESS_MAX_EPOCHS = Math.min(20, MAX_EPOCHS_PER_CALL);

/** A figure that is not finite (a diverged epoch) travels as null: JSON and DynamoDB carry no NaN or Infinity. */
const lossSchema = z.number().nullable();
const fraction = z.number().min(0).max(1);

export const stepProgressEpochSchema = z
  .object({
    /** The model's epoch number (over the whole episode). */
    epoch: z.number().int().min(0).max(100_000),
    /** 1-based position within this step. */
    index: z.number().int().min(1).max(MAX_EPOCHS_PER_CALL),
    learning_rate: z.number().min(0),
    train_loss: lossSchema,
    train_accuracy: fraction.nullable(),
    val_loss: lossSchema,
    val_accuracy: fraction.nullable(),
    seconds: z.number().min(0),
    diverged: z.boolean(),
  })
  .strict();

export const stepProgressSchema = z
  .object({
    epochs_done: z.number().int().min(0).max(MAX_EPOCHS_PER_CALL),
    epochs_planned: z.number().int().min(1).max(MAX_EPOCHS_PER_CALL),
    /** The last epochs done, oldest first (at most STEP_PROGRESS_MAX_EPOCHS). */
    epochs: z.array(stepProgressEpochSchema).max(STEP_PROGRESS_MAX_EPOCHS),
  })
  .strict();

export type StepProgressEpoch = z.infer<typeof stepProgressEpochSchema>;
export type StepProgress = z.infer<typeof stepProgressSchema>;

function finiteOrNull(value: number | null): number | null {
  return Number.isFinite(value) ? value : null;
}

/** The progress after one more epoch (the input is not modified); the oldest epochs drop out past the bound. */
export function withEpoch(progress: StepProgress | undefined, epoch: EpochProgress): StepProgress {
  const entry: StepProgressEpoch = {
    epoch: epoch.epoch,
    index: epoch.index,
    learning_rate: epoch.learning_rate,
    train_loss: finiteOrNull(epoch.train_loss),
    train_accuracy: finiteOrNull(epoch.train_accuracy),
    val_loss: finiteOrNull(epoch.val_loss),
    val_accuracy: finiteOrNull(epoch.val_accuracy),
    seconds: epoch.seconds,
    diverged: epoch.diverged,
  };
  const epochs = [...(progress?.epochs ?? []), entry].slice(-STEP_PROGRESS_MAX_EPOCHS);
  return { epochs_done: Math.max(progress?.epochs_done ?? 0, epoch.index), epochs_planned: epoch.total, epochs };
}

/** The progress if it is well formed, else undefined (what a reader does with a stored or received value). */
export function parseStepProgress(value: unknown): StepProgress | undefined {
  const parsed = stepProgressSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The epochs of a progress as the EpochProgress a display prints (a null training figure is NaN again: diverged). */
export function epochsOfProgress(progress: StepProgress): EpochProgress[] {
  return progress.epochs.map((e) => ({ ...e, train_loss: e.train_loss ?? Number.NaN, train_accuracy: e.train_accuracy ?? Number.NaN, total: progress.epochs_planned }));
}

/** Where a step's status (and progress) is read: the REST API's GET /v1/episodes/{id}/steps/{step_id}, step_id the request_id. */
export function stepStatusPath(episodeId: string, stepId: string): string {
  return `/v1/episodes/${encodeURIComponent(episodeId)}/steps/${encodeURIComponent(stepId)}`;
}
