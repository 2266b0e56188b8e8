import type { DatasetName } from '../../core/src';

export type { DatasetName };

/** Raw images of one split, uint8, in the datasets' own layout: N × C × H × W (CIFAR planes are CHW). */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** The decoded train/validation subset of a task, before scaling and normalisation. */
export interface TaskData {
  dataset: DatasetName;
  channels: number;
  height: number;
  width: number;
  train: ImageSet;
  val: ImageSet;
}
