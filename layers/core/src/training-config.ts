import { z } from 'zod';

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const LR_SCHEDULES = ['constant', 'step', 'cosine', 'warmup_cosine'] as const;
export const BATCH_SIZES = [32, 64, 128, 256] as const;

export type OptimizerKind = (typeof OPTIMIZERS)[number];
export type LrScheduleKind = (typeof LR_SCHEDULES)[number];
export type BatchSize = (typeof BATCH_SIZES)[number];

export const MAX_LEARNING_RATE = 10;

/** Learning rate: finite, > 0, ≤ 10 (shared by configure_training and adjust_learning_rate). */
export const learningRateSchema = z
  .number()
  .gt(0)
  .lte(MAX_LEARNING_RATE)
  .describe('Learning rate: a finite number, > 0 and ≤ 10.');

/** The argument schema of configure_training; every field is optional and defaults as the contract says. */
export const trainingConfigSchema = z
  .object({
    optimizer: z.enum(OPTIMIZERS).default('adam').describe('sgd (momentum 0.9), adam or adamw.'),
    learning_rate: learningRateSchema.default(0.001),
    batch_size: z
      .literal(BATCH_SIZES)
      .default(64)
      .describe('Mini-batch size: 32, 64, 128 or 256.'),
    weight_decay: z
      .number()
      .gte(0)
      .lte(1)
      .default(0)
      .describe('Weight decay, 0 ≤ x ≤ 1: L2 added to the gradient for sgd and adam, decoupled for adamw.'),
    dropout: z.number().gte(0).lte(0.9).default(0).describe('Dropout probability, 0 ≤ p ≤ 0.9.'),
    lr_schedule: z
      .enum(LR_SCHEDULES)
      .default('constant')
      .describe('constant, step (×0.1 every third of the budget), cosine, or warmup_cosine.'),
    warmup_epochs: z.number().int().gte(0).default(5).describe('Warm-up epochs for warmup_cosine: an integer ≥ 0.'),
    augmentation: z.boolean().default(false).describe('Train-time data augmentation on or off.'),
    augmentation_strength: z
      .number()
      .gte(0)
      .lte(1)
      .default(0.5)
      .describe('Augmentation strength, 0 ≤ s ≤ 1.'),
  })
  .strict();

export type TrainingConfig = z.output<typeof trainingConfigSchema>;

export const DEFAULT_TRAINING_CONFIG: TrainingConfig = trainingConfigSchema.parse({});
