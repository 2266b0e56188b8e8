import type { AugmentationSetting, EvalPassMetrics, Trainer, TrainerSpec, TrainingConfig, TrainPassMetrics } from '../../core/src';
import type { DatasetName, TaskData } from '../../datasets/src';
import { encodeCheckpoint, TrainerSnapshot } from './checkpoint';
import type { DeviceSplits, SharedSplits, SplitsLease } from './data/shared-splits';
import { evaluate } from './evaluation';
import type { KernelChoice } from './layers/layer';
import { MODEL_INPUT, ModelKind } from './model/architectures';
import { snapshotModel } from './model-snapshot';
import { processIntraOpThreads } from './thread-count';
import { ModelState } from './model-state';
import type { RngStreams } from './rng-streams';
import { trainEpoch } from './train-epoch';

/** What a trainer is for and how it gets its data. */
export interface TrainerContext {
  spec: TrainerSpec;
  modelKind: ModelKind;
  dataset: DatasetName;
  kernels: KernelChoice;
  yieldEveryMs?: number;
  loadTaskData(): Promise<TaskData>;
  /** Where the loaded data's device tensors come from (shared with the factory's other trainers). */
  splits: SharedSplits;
}

/** The Trainer port on tfjs-node: real training of the task's model, hand-written backward passes. */
export class TfjsTrainer implements Trainer {
  private data: Promise<SplitsLease> | null = null;
  private disposed = false;

  constructor(
    private readonly context: TrainerContext,
    private readonly rng: RngStreams,
    private augmentation: AugmentationSetting,
    private model: ModelState | null,
  ) {}

  async buildModel(config: TrainingConfig): Promise<void> {
    this.checkUsable();
    this.model?.dispose();
    this.model = null;
    this.model = ModelState.fresh(this.context.modelKind, config, this.rng.global);
    this.augmentation = augmentationOf(config);
  }

  async applyConfig(config: TrainingConfig, options: { keepOptimizerState: boolean }): Promise<void> {
    this.requireModel().reconfigure(config, options.keepOptimizerState);
    this.augmentation = augmentationOf(config);
  }

  async setAugmentation(setting: AugmentationSetting): Promise<void> {
    this.checkUsable();
    this.augmentation = { enabled: setting.enabled, strength: Math.min(1, Math.max(0, setting.strength)) };
  }

  async trainEpoch(learningRate: number): Promise<TrainPassMetrics> {
    if (!Number.isFinite(learningRate) || learningRate < 0) throw new RangeError(`learning rate must be finite and ≥ 0, got ${learningRate}`);
    const model = this.requireModel();
    const data = await this.deviceData();
    return trainEpoch({
      model,
      data: data.train,
      dataset: this.context.dataset,
      learningRate,
      augmentation: this.augmentation,
      rng: this.rng,
      kernels: this.context.kernels,
      ...(this.context.yieldEveryMs === undefined ? {} : { yieldEveryMs: this.context.yieldEveryMs }),
    });
  }

  async evaluate(): Promise<EvalPassMetrics> {
    const model = this.requireModel();
    const data = await this.deviceData();
    return evaluate(model, data.val, this.context.kernels, this.context.yieldEveryMs);
  }

  async keepBestWeights(): Promise<void> {
    this.requireModel().keepBest();
  }

  async saveCheckpoint(): Promise<Uint8Array> {
    this.checkUsable();
    return encodeCheckpoint(this.snapshot());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model?.dispose();
    this.model = null;
    void this.data?.then((lease) => lease.release(), () => undefined);
    this.data = null;
  }

  private snapshot(): TrainerSnapshot {
    return {
      taskId: this.context.spec.taskId,
      seed: this.context.spec.seed,
      modelKind: this.context.modelKind,
      augmentation: this.augmentation,
      rng: this.rng.save(),
      kernels: this.context.kernels,
      intraOpThreads: processIntraOpThreads(),
      model: this.model ? snapshotModel(this.model) : null,
    };
  }

  private requireModel(): ModelState {
    this.checkUsable();
    if (!this.model) throw new Error('no model yet: buildModel (configure_training) comes first');
    return this.model;
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error('this trainer has been disposed');
  }

  private async deviceData(): Promise<DeviceSplits> {
    this.data ??= this.context.loadTaskData().then((data) => {
      checkTaskData(data, this.context);
      const lease = this.context.splits.acquire(data);
      if (this.disposed) lease.release();
      return lease;
    });
    return (await this.data).splits;
  }
}

function augmentationOf(config: TrainingConfig): AugmentationSetting {
  return { enabled: config.augmentation, strength: config.augmentation_strength };
}

function checkTaskData(data: TaskData, context: TrainerContext): void {
  if (data.dataset !== context.dataset) {
    throw new Error(`task ${context.spec.taskId} trains on ${context.dataset}, the loader gave ${data.dataset}`);
  }
  const want = MODEL_INPUT[context.modelKind];
  if (data.height !== want.height || data.width !== want.width || data.channels !== want.channels) {
    throw new Error(`${context.modelKind} takes ${want.channels}×${want.height}×${want.width} images, the data has ${data.channels}×${data.height}×${data.width}`);
  }
  if (data.train.count === 0) throw new Error('the training split is empty');
}
