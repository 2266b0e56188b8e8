import './node-compat'; // first: tfjs-node needs it on Node 23+ before it runs a kernel
import './tensorflow-logs'; // before tfjs-node loads: its log level is read once, at load
export { createTfjsTrainerFactory, type TfjsTrainerFactoryOptions } from './trainer-factory';
export { TfjsTrainer } from './tfjs-trainer';
export * from './without-tensorflow';
export { MODEL_KINDS, type ModelKind } from './model/architectures';
export type { BatchNormKernels } from './ops/batch-norm';
export { FLOPS_COUNTED, modelFlops, type LayerFlops, type ModelFlops } from './model/flops';
export { measureMatMulPeak, type MatMulKernel, type MatMulPeak, type MatMulSample } from './matmul-peak';
