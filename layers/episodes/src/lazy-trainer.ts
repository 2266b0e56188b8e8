import type { AugmentationSetting, EvalPassMetrics, Trainer, TrainingConfig, TrainPassMetrics } from '../../core/src';

export interface LazyTrainerParts {
  /** Builds or restores the real trainer; called once, by the first method that needs it. */
  build: () => Promise<Trainer>;
  /** Runs once before the first pass over the data (trainEpoch or evaluate), e.g. a dataset sync. */
  beforeData?: () => Promise<void>;
  /** The checkpoint the real trainer would be restored from: saveCheckpoint answers it without building. */
  restoredFrom?: Uint8Array;
}

/**
 * A Trainer that exists only on paper until a call needs it. Most tools never touch the
 * trainer (get_training_status, adjust_learning_rate, submit_model, every rejected call),
 * so a step of one of them neither loads its checkpoint nor builds a model: a broken
 * checkpoint cannot stop them, and nothing heavy is loaded for them. A trainer that is
 * used is built first, so from then on it behaves exactly as the real one.
 */
export class LazyTrainer implements Trainer {
  private trainer: Promise<Trainer> | undefined;
  private dataReady: Promise<void> | undefined;
  private built = false;
  private disposed = false;

  constructor(private readonly parts: LazyTrainerParts) {}

  /** Whether the real trainer exists (a failed build leaves it unbuilt: its state is still the stored one). */
  get materialised(): boolean {
    return this.built;
  }

  private real(): Promise<Trainer> {
    if (this.disposed) return Promise.reject(new Error('The trainer was disposed.'));
    this.trainer ??= this.parts.build().then((trainer) => {
      this.built = true;
      return trainer;
    });
    return this.trainer;
  }

  private async withData(): Promise<Trainer> {
    const trainer = await this.real();
    if (this.parts.beforeData) {
      this.dataReady ??= this.parts.beforeData();
      await this.dataReady;
    }
    return trainer;
  }

  async buildModel(config: TrainingConfig): Promise<void> {
    return (await this.real()).buildModel(config);
  }

  async applyConfig(config: TrainingConfig, options: { keepOptimizerState: boolean }): Promise<void> {
    return (await this.real()).applyConfig(config, options);
  }

  async setAugmentation(setting: AugmentationSetting): Promise<void> {
    return (await this.real()).setAugmentation(setting);
  }

  async trainEpoch(learningRate: number): Promise<TrainPassMetrics> {
    return (await this.withData()).trainEpoch(learningRate);
  }

  async evaluate(): Promise<EvalPassMetrics> {
    return (await this.withData()).evaluate();
  }

  async keepBestWeights(): Promise<void> {
    return (await this.real()).keepBestWeights();
  }

  async saveCheckpoint(): Promise<Uint8Array> {
    if (this.trainer === undefined && this.parts.restoredFrom !== undefined) return this.parts.restoredFrom;
    return (await this.real()).saveCheckpoint();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.trainer?.then((t) => t.dispose()).catch(() => undefined);
  }
}
