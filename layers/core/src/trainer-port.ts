import type { TrainingConfig } from './training-config';

/** Metrics of one pass over the training subset (sample-weighted means, dropout on, augmentation as set). */
export interface TrainPassMetrics {
  loss: number;
  accuracy: number;
  seconds: number;
}

/** Metrics of one pass over the validation subset (dropout off, batch norm in inference mode). */
export interface EvalPassMetrics {
  loss: number;
  accuracy: number;
  seconds: number;
}

export interface AugmentationSetting {
  enabled: boolean;
  strength: number;
}

/**
 * The narrow interface through which the episode state machine drives training.
 * The state machine owns the rules (schedule, divergence, best accuracy, budget);
 * a trainer owns tensors, RNG streams and optimizer state.
 */
export interface Trainer {
  /** Builds a fresh model (new weights, new optimizer state) and applies the configuration. */
  buildModel(config: TrainingConfig): Promise<void>;
  /**
   * Applies a configuration to the existing model. Optimizer slot state (momentum,
   * Adam moments and step counts) is kept when keepOptimizerState is true.
   */
  applyConfig(config: TrainingConfig, options: { keepOptimizerState: boolean }): Promise<void>;
  /** Changes only the training data pipeline. */
  setAugmentation(setting: AugmentationSetting): Promise<void>;
  /** One epoch over the shuffled training subset at this learning rate. */
  trainEpoch(learningRate: number): Promise<TrainPassMetrics>;
  /** One pass over the validation subset. */
  evaluate(): Promise<EvalPassMetrics>;
  /** Remembers the current weights as the best model so far. */
  keepBestWeights(): Promise<void>;
  /** Everything needed to continue exactly, as one opaque blob. */
  saveCheckpoint(): Promise<Uint8Array>;
  /** Frees native resources; the trainer is unusable afterwards. */
  dispose(): void;
}

/** What the episode needs to know to build or restore a trainer. */
export interface TrainerSpec {
  taskId: string;
  seed: number;
}

export interface TrainerFactory {
  /** A trainer with no model yet (the state before the first configure_training). */
  create(spec: TrainerSpec): Promise<Trainer>;
  /** A trainer restored from a blob written by saveCheckpoint. */
  restore(spec: TrainerSpec, checkpoint: Uint8Array): Promise<Trainer>;
}
