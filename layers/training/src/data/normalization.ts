import type { DatasetName } from '../../../datasets/src';

/** torchvision Normalize constants of each dataset, per channel. */
export const NORMALISATION: Record<DatasetName, { mean: readonly number[]; std: readonly number[] }> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  fashion_mnist: { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
};

/**
 * For each channel, the normalised float32 value of every byte 0..255, computed as
 * PyTorch does (`x.float().div(255)`, then `sub_(mean)`, then `div_(std)`, each rounded
 * to float32): a double result rounded to float32 equals float32 arithmetic here, since
 * a double carries more than twice float32's precision.
 */
export function normalisationTable(dataset: DatasetName): Float32Array[] {
  const { mean, std } = NORMALISATION[dataset];
  return mean.map((m, c) => {
    const mf = Math.fround(m);
    const sf = Math.fround(std[c]!);
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v / 255) - mf) / sf;
    return table;
  });
}

/** The normalised value of a black pixel (byte 0), per channel: the augmentation fill. */
export function blackLevel(dataset: DatasetName): number[] {
  return normalisationTable(dataset).map((t) => t[0]!);
}
