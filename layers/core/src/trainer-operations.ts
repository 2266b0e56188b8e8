import { z } from 'zod';
import { MAX_STEPS } from './episode-record';
import type { AugmentationSetting, EvalPassMetrics, Trainer, TrainPassMetrics } from './trainer-port';
import { trainingConfigSchema, type TrainingConfig } from './training-config';

/**
 * A trainer call that changes the model but needs no training data (configure_training's
 * build or reconfiguration, toggle_augmentation's pipeline change), kept so that it can be
 * made later on the real trainer. The cloud's api function records them (it never loads
 * TensorFlow) and the next training step replays them in order before its own call.
 */
export const trainerOperationSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('build_model'), config: trainingConfigSchema }).strict(),
  z.object({ op: z.literal('apply_config'), config: trainingConfigSchema, keep_optimizer_state: z.boolean() }).strict(),
  z.object({ op: z.literal('set_augmentation'), enabled: z.boolean(), strength: z.number().gte(0).lte(1) }).strict(),
]);

export type TrainerOperation = z.output<typeof trainerOperationSchema>;

/** Each step makes at most one such call, so an episode never has more pending than it has steps. */
export const MAX_PENDING_TRAINER_OPERATIONS = MAX_STEPS;

export const trainerOperationsSchema = z.array(trainerOperationSchema).max(MAX_PENDING_TRAINER_OPERATIONS);

/** Makes the operations on a trainer, in order: the trainer is then as if each call had been made on it directly. */
export async function replayTrainerOperations(trainer: Trainer, operations: readonly TrainerOperation[]): Promise<void> {
  for (const operation of operations) {
    switch (operation.op) {
      case 'build_model':
        await trainer.buildModel(operation.config);
        break;
      case 'apply_config':
        await trainer.applyConfig(operation.config, { keepOptimizerState: operation.keep_optimizer_state });
        break;
      case 'set_augmentation':
        await trainer.setAugmentation({ enabled: operation.enabled, strength: operation.strength });
        break;
    }
  }
}

/** A step that needs the training data reached a trainer that only records: the routing (needsTrainingData) is wrong. */
export class RecordingTrainerMisuse extends Error {
  override readonly name = 'RecordingTrainerMisuse';
}

/**
 * A Trainer that makes no call but writes down the ones that change the model (after those
 * already pending). Only steps for which needsTrainingData is false may run on it: a pass
 * over the data, keeping weights or saving a checkpoint throws RecordingTrainerMisuse (a
 * programming error, never a tool error: executeStep lets it through and nothing commits).
 */
export class RecordingTrainer implements Trainer {
  private readonly operations: TrainerOperation[];

  constructor(pending: readonly TrainerOperation[] = []) {
    this.operations = [...pending];
  }

  /** What is pending after this step: the operations it started with, then the ones it recorded. */
  get pending(): readonly TrainerOperation[] {
    return this.operations;
  }

  async buildModel(config: TrainingConfig): Promise<void> {
    this.operations.push({ op: 'build_model', config });
  }

  async applyConfig(config: TrainingConfig, options: { keepOptimizerState: boolean }): Promise<void> {
    this.operations.push({ op: 'apply_config', config, keep_optimizer_state: options.keepOptimizerState });
  }

  async setAugmentation(setting: AugmentationSetting): Promise<void> {
    this.operations.push({ op: 'set_augmentation', enabled: setting.enabled, strength: setting.strength });
  }

  trainEpoch(): Promise<TrainPassMetrics> {
    return this.misuse('trainEpoch');
  }

  evaluate(): Promise<EvalPassMetrics> {
    return this.misuse('evaluate');
  }

  keepBestWeights(): Promise<void> {
    return this.misuse('keepBestWeights');
  }

  saveCheckpoint(): Promise<Uint8Array> {
    return this.misuse('saveCheckpoint');
  }

  dispose(): void {
    // Nothing was allocated.
  }

  private misuse(method: string): Promise<never> {
    return Promise.reject(
      new RecordingTrainerMisuse(`${method} was called on a recording trainer: a step that needs the training data was routed away from the training function.`),
    );
  }
}
