import type { AugmentationSetting, EvalPassMetrics, Trainer, TrainerFactory, TrainerSpec, TrainingConfig, TrainPassMetrics } from '../../core/src';

/**
 * A deterministic stand-in for real training: closed-form curves that rise, overfit and
 * plateau like real ones, and diverge on demand (lr ≥ 1: a finite loss above 100;
 * lr ≥ 5: NaN). It lets the state machine and the adapters be tested end to end in
 * milliseconds. Its checkpoint is its state as JSON.
 */
interface FormulaState {
  seed: number;
  built: boolean;
  config: TrainingConfig | null;
  /** How much the current model has learned; grows with every epoch. */
  knowledge: number;
  epochs: number;
  optimizer_steps: number;
  augmentation: AugmentationSetting;
  best_knowledge: number | null;
  last_lr: number | null;
}

const LOSS_ABOVE_LIMIT_LR = 1;
const NAN_LR = 5;
const EPOCH_SECONDS = 0.01;

export class FormulaTrainer implements Trainer {
  constructor(private state: FormulaState) {}

  static fresh(spec: TrainerSpec): FormulaTrainer {
    return new FormulaTrainer({
      seed: spec.seed,
      built: false,
      config: null,
      knowledge: 0,
      epochs: 0,
      optimizer_steps: 0,
      augmentation: { enabled: false, strength: 0.5 },
      best_knowledge: null,
      last_lr: null,
    });
  }

  /** Read-only view for tests. */
  get snapshot(): Readonly<FormulaState> {
    return this.state;
  }

  async buildModel(config: TrainingConfig): Promise<void> {
    // A different seed gives a slightly different starting point, as real initialisation would.
    const start = (this.state.seed % 7) * 0.01;
    this.state = { ...this.state, built: true, config, knowledge: start, epochs: 0, optimizer_steps: 0, best_knowledge: null };
    this.state.augmentation = { enabled: config.augmentation, strength: config.augmentation_strength };
  }

  async applyConfig(config: TrainingConfig, options: { keepOptimizerState: boolean }): Promise<void> {
    this.requireModel();
    this.state.config = config;
    this.state.augmentation = { enabled: config.augmentation, strength: config.augmentation_strength };
    if (!options.keepOptimizerState) this.state.optimizer_steps = 0;
  }

  async setAugmentation(setting: AugmentationSetting): Promise<void> {
    this.state.augmentation = { ...setting };
  }

  async trainEpoch(learningRate: number): Promise<TrainPassMetrics> {
    const config = this.requireModel();
    this.state.last_lr = learningRate;
    this.state.epochs += 1;
    this.state.optimizer_steps += 1;
    if (learningRate >= NAN_LR) return { loss: Number.NaN, accuracy: 0.1, seconds: EPOCH_SECONDS };
    if (learningRate >= LOSS_ABOVE_LIMIT_LR) return { loss: 250, accuracy: 0.1, seconds: EPOCH_SECONDS };
    const speed = Math.min(1, learningRate / 0.001) * (1 - config.dropout / 2) * (this.state.augmentation.enabled ? 0.85 : 1);
    this.state.knowledge += 0.35 * speed;
    const k = this.state.knowledge;
    return { loss: 2.3 * Math.exp(-k) + 0.01, accuracy: quantise(0.1 + 0.9 * (1 - Math.exp(-k))), seconds: EPOCH_SECONDS };
  }

  async evaluate(): Promise<EvalPassMetrics> {
    const config = this.requireModel();
    const k = this.state.knowledge;
    const regularised = (1 - config.dropout) * (this.state.augmentation.enabled ? 0.5 : 1);
    const overfit = Math.max(0, k - 6) * 0.02 * regularised;
    return {
      loss: 2.3 * Math.exp(-0.8 * k) + 0.25 + overfit,
      accuracy: quantise(Math.max(0, 0.1 + 0.8 * (1 - Math.exp(-0.8 * k)) - overfit * 0.3)),
      seconds: EPOCH_SECONDS,
    };
  }

  async keepBestWeights(): Promise<void> {
    this.state.best_knowledge = this.state.knowledge;
  }

  async saveCheckpoint(): Promise<Uint8Array> {
    return new TextEncoder().encode(JSON.stringify(this.state));
  }

  dispose(): void {}

  private requireModel(): TrainingConfig {
    if (!this.state.built || this.state.config === null) throw new Error('FormulaTrainer: no model built yet');
    return this.state.config;
  }
}

/** Accuracy as a count over a 1000-sample validation set, like a real one. */
function quantise(accuracy: number): number {
  return Math.round(accuracy * 1000) / 1000;
}

export const formulaTrainerFactory: TrainerFactory = {
  async create(spec) {
    return FormulaTrainer.fresh(spec);
  },
  async restore(_spec, checkpoint) {
    return new FormulaTrainer(JSON.parse(new TextDecoder().decode(checkpoint)) as FormulaState);
  },
};
