import { z } from 'zod';
import { CoreError } from './core-error';
import type { GradeInput } from './grading';
import { taskIdSchema } from './tasks/registry';

const finite = z.number().finite();
const rate = finite.min(0).max(1);
const epochCount = z.number().int().min(0);

/** The stored-metrics JSON accepted by `ml-trainer grade` and the grade function. */
export const gradeInputSchema = z
  .object({
    task_id: taskIdSchema,
    current_epoch: epochCount,
    best_val_accuracy: rate,
    best_val_epoch: epochCount,
    train_loss_history: z.array(finite),
    val_loss_history: z.array(finite),
    train_acc_history: z.array(rate),
    val_acc_history: z.array(rate),
  })
  .strict()
  .refine((m) => m.best_val_epoch <= m.current_epoch, {
    message: 'best_val_epoch cannot be later than current_epoch',
    path: ['best_val_epoch'],
  });

/** Parses stored trainer metrics; every problem is named by its field path. */
export function parseGradeInput(value: unknown): GradeInput {
  const parsed = gradeInputSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CoreError('invalid_metrics', `Invalid trainer metrics: ${issues.join('; ')}`);
  }
  return parsed.data;
}
