export { createTfjsTrainerFactory, type TfjsTrainerFactoryOptions } from './trainer-factory';
export { TfjsTrainer } from './tfjs-trainer';
export * from './without-tensorflow';
export { MODEL_KINDS, type ModelKind } from './model/architectures';
export type { BatchNormKernels } from './ops/batch-norm';
