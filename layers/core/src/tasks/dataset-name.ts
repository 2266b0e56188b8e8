/** The datasets tasks draw from; the datasets layer maps each name to its reader. */
export const DATASET_NAMES = ['mnist', 'fashion_mnist', 'cifar10'] as const;

export type DatasetName = (typeof DATASET_NAMES)[number];

export function isDatasetName(value: unknown): value is DatasetName {
  return (DATASET_NAMES as readonly unknown[]).includes(value);
}
