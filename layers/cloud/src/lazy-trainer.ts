import type { AugmentationSetting, Trainer, TrainerFactory, TrainerSpec, TrainingConfig } from '../../core/src';

export interface LazyTrainerOptions {
  /** The real factory, loaded on first need (the training handler imports tfjs-node here, not at cold start). */
  load: () => Promise<TrainerFactory>;
  /** Runs once per trainer before its first pass over the data (the training handler syncs the dataset from S3). */
  beforeData?: (spec: TrainerSpec) => Promise<void>;
}

export interface LazyTrainerFactory extends TrainerFactory {
  /** How many trainers were actually built or restored (0: no step needed the real trainer). */
  readonly materialised: number;
}

/**
 * A TrainerFactory whose trainers exist only on paper until a step uses them. The stored
 * service restores a trainer for every step, but most tools never touch it
 * (get_training_status, adjust_learning_rate, submit_model, every rejected call): for
 * those, the restored trainer is never built, nothing of tfjs is loaded, and its
 * checkpoint is the one it was restored from, byte for byte (so the service sees an
 * unchanged checkpoint and uploads nothing). A trainer that is used is built from the same
 * checkpoint by the real factory first, so its behaviour is exactly the real one.
 */
export function lazyTrainerFactory(options: LazyTrainerOptions): LazyTrainerFactory {
  let factory: Promise<TrainerFactory> | undefined;
  let materialised = 0;
  const real = (): Promise<TrainerFactory> => {
    factory ??= options.load().catch((error: unknown) => {
      factory = undefined;
      throw error;
    });
    return factory;
  };
  const make = (spec: TrainerSpec, checkpoint: Uint8Array | null): Trainer =>
    new LazyTrainer(spec, checkpoint, async () => {
      const f = await real();
      materialised += 1;
      return checkpoint === null ? f.create(spec) : f.restore(spec, checkpoint);
    }, options.beforeData);
  return {
    get materialised() {
      return materialised;
    },
    async create(spec) {
      return make(spec, null);
    },
    async restore(spec, checkpoint) {
      return make(spec, checkpoint);
    },
  };
}

class LazyTrainer implements Trainer {
  private trainer: Promise<Trainer> | undefined;
  private dataReady: Promise<void> | undefined;
  private disposed = false;

  constructor(
    private readonly spec: TrainerSpec,
    private readonly checkpoint: Uint8Array | null,
    private readonly build: () => Promise<Trainer>,
    private readonly beforeData: ((spec: TrainerSpec) => Promise<void>) | undefined,
  ) {}

  private real(): Promise<Trainer> {
    if (this.disposed) return Promise.reject(new Error('The trainer was disposed.'));
    this.trainer ??= this.build();
    return this.trainer;
  }

  private async withData(): Promise<Trainer> {
    if (this.beforeData) {
      this.dataReady ??= this.beforeData(this.spec);
      await this.dataReady;
    }
    return this.real();
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

  async trainEpoch(learningRate: number) {
    return (await this.withData()).trainEpoch(learningRate);
  }

  async evaluate() {
    return (await this.withData()).evaluate();
  }

  async keepBestWeights(): Promise<void> {
    return (await this.real()).keepBestWeights();
  }

  async saveCheckpoint(): Promise<Uint8Array> {
    // Never built: still exactly the checkpoint it was restored from.
    if (this.trainer === undefined && this.checkpoint !== null) return this.checkpoint;
    return (await this.real()).saveCheckpoint();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const trainer = this.trainer;
    if (trainer) void trainer.then((t) => t.dispose()).catch(() => undefined);
  }
}
