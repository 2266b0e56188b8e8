import { getTask, type Trainer, type TrainerFactory, type TrainerSpec } from '../../core/src';
import type { TaskData } from '../../datasets/src';
import { CheckpointError, decodeCheckpoint } from './checkpoint';
import { SharedSplits } from './data/shared-splits';
import type { KernelChoice } from './layers/layer';
import { restoreModel } from './model-snapshot';
import type { BatchNormKernels } from './ops/batch-norm';
import { oneDnnKernelsAvailable } from './ops/kernel-probe';
import { RngStreams } from './rng-streams';
import { TfjsTrainer, TrainerContext } from './tfjs-trainer';

export interface TfjsTrainerFactoryOptions {
  /** The task's decoded train/validation subset; called at most once per trainer, when it first trains or evaluates. */
  loadTaskData(spec: TrainerSpec): Promise<TaskData>;
  /** 'fused' (default): TensorFlow's FusedBatchNormV3 kernels; 'plain': composed of elementwise ops. */
  batchNorm?: BatchNormKernels;
  /**
   * Use the oneDNN kernels TensorFlow reaches only by label, for pooling and conv + bias
   * (same values, faster). Default: where this TensorFlow library has them.
   */
  oneDnn?: boolean;
  /** How much work a pass does before it lets the event loop run (event-loop-yield.ts); default YIELD_EVERY_MS. */
  yieldEveryMs?: number;
  /**
   * How long the normalised splits of a task's data stay on the device after the last
   * trainer reading them is disposed (data/shared-splits.ts); default 0: freed with it.
   */
  keepSplitsMs?: number;
}

/** Trainers for the registry's tasks on tfjs-node: each task's model kind on its dataset. */
export function createTfjsTrainerFactory(options: TfjsTrainerFactoryOptions): TrainerFactory {
  const splits = new SharedSplits(options.keepSplitsMs ?? 0);
  const kernels = (): KernelChoice => ({ batchNorm: options.batchNorm ?? 'fused', oneDnn: options.oneDnn ?? oneDnnKernelsAvailable() });
  const contextFor = (spec: TrainerSpec): TrainerContext => {
    const task = getTask(spec.taskId);
    return {
      spec,
      modelKind: task.model_type,
      dataset: task.dataset_name,
      kernels: kernels(),
      ...(options.yieldEveryMs === undefined ? {} : { yieldEveryMs: options.yieldEveryMs }),
      loadTaskData: () => options.loadTaskData(spec),
      splits,
    };
  };
  return {
    async create(spec: TrainerSpec): Promise<Trainer> {
      return new TfjsTrainer(contextFor(spec), RngStreams.seeded(spec.seed), { enabled: false, strength: 0.5 }, null);
    },
    async restore(spec: TrainerSpec, checkpoint: Uint8Array): Promise<Trainer> {
      const context = contextFor(spec);
      const snapshot = decodeCheckpoint(checkpoint, spec);
      if (snapshot.modelKind !== context.modelKind) {
        throw new CheckpointError('wrong_task', `checkpoint holds a ${snapshot.modelKind}, task ${spec.taskId} trains a ${context.modelKind}`);
      }
      const rng = RngStreams.restore(spec.seed, snapshot.rng);
      const model = snapshot.model ? restoreModel(context.modelKind, snapshot.model) : null;
      return new TfjsTrainer(context, rng, snapshot.augmentation, model);
    },
  };
}
