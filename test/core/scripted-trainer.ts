import type { AugmentationSetting, EvalPassMetrics, Trainer, TrainingConfig, TrainPassMetrics } from '../../layers/core/src';

/** One epoch as the trainer reports it: the training pass and the validation pass. */
export interface ScriptedEpoch {
  train: TrainPassMetrics;
  val: EvalPassMetrics;
}

/**
 * A trainer that reports exactly the metrics it is given, epoch by epoch, so a test can put
 * a loss on a boundary (exactly 100, a non-finite val loss, a tied accuracy) and see what the
 * state machine makes of it. It records the calls the state machine makes.
 */
export class ScriptedTrainer implements Trainer {
  readonly calls: string[] = [];
  readonly learningRates: number[] = [];
  private trained = 0;

  constructor(private readonly epochs: readonly ScriptedEpoch[]) {}

  async buildModel(_config: TrainingConfig): Promise<void> {
    this.calls.push('buildModel');
  }

  async applyConfig(_config: TrainingConfig, options: { keepOptimizerState: boolean }): Promise<void> {
    this.calls.push(`applyConfig keep=${options.keepOptimizerState}`);
  }

  async setAugmentation(setting: AugmentationSetting): Promise<void> {
    this.calls.push(`setAugmentation ${setting.enabled} ${setting.strength}`);
  }

  async trainEpoch(learningRate: number): Promise<TrainPassMetrics> {
    const epoch = this.epochs[this.trained];
    if (epoch === undefined) throw new Error(`ScriptedTrainer: no epoch ${this.trained + 1} in the script`);
    this.trained += 1;
    this.calls.push('trainEpoch');
    this.learningRates.push(learningRate);
    return epoch.train;
  }

  async evaluate(): Promise<EvalPassMetrics> {
    this.calls.push('evaluate');
    return this.epochs[this.trained - 1].val;
  }

  async keepBestWeights(): Promise<void> {
    this.calls.push('keepBestWeights');
  }

  async saveCheckpoint(): Promise<Uint8Array> {
    return new Uint8Array();
  }

  dispose(): void {}
}

/** An epoch whose passes take the given seconds, with these losses and accuracies. */
export function epoch(trainLoss: number, valLoss: number, valAccuracy: number, seconds = { train: 0.01, val: 0.01 }): ScriptedEpoch {
  return {
    train: { loss: trainLoss, accuracy: 0.5, seconds: seconds.train },
    val: { loss: valLoss, accuracy: valAccuracy, seconds: seconds.val },
  };
}
