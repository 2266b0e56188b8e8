import { DatasetError } from './dataset-error';
import { TorchGenerator } from './torch-generator';

/** Indices into the official training split: the task's training rows, then its validation rows. */
export interface SubsetIndices {
  train: number[];
  val: number[];
}

/**
 * The task subset as PyTorch draws it:
 * `perm = torch.randperm(officialTrainSize, generator=torch.Generator().manual_seed(seed))`,
 * train = perm[:trainSize], val = perm[trainSize:trainSize + valSize].
 */
export function subsetIndices(
  officialTrainSize: number,
  seed: number | bigint,
  trainSize: number,
  valSize: number,
): SubsetIndices {
  requireCount('officialTrainSize', officialTrainSize);
  requireCount('trainSize', trainSize);
  requireCount('valSize', valSize);
  if (trainSize + valSize > officialTrainSize) {
    throw new DatasetError(
      'invalid_request',
      `trainSize + valSize (${trainSize} + ${valSize}) exceeds the official training split of ${officialTrainSize} images`,
    );
  }
  const perm = TorchGenerator.seeded(seed).randperm(officialTrainSize);
  return {
    train: Array.from(perm.subarray(0, trainSize)),
    val: Array.from(perm.subarray(trainSize, trainSize + valSize)),
  };
}

function requireCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DatasetError('invalid_request', `${name} must be a non-negative integer, got ${value}`);
  }
}
