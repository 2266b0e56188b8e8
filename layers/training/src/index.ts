export { createTfjsTrainerFactory, type TfjsTrainerFactoryOptions } from './trainer-factory';
export { TfjsTrainer } from './tfjs-trainer';
export { CheckpointError, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, type CheckpointErrorCode } from './checkpoint';
export { MODEL_KINDS, type ModelKind } from './model/architectures';
export type { BatchNormKernels } from './ops/batch-norm';
