import { DatasetError } from '../../layers/datasets/src/dataset-error';
import { subsetIndices } from '../../layers/datasets/src/subset';
import subsets from '../fixtures/subsets.json';

interface TaskSubset {
  official_train_size: number;
  seed: number;
  train_size: number;
  val_size: number;
  train: number[];
  val: number[];
}

const tasks = Object.entries((subsets as { tasks: Record<string, TaskSubset> }).tasks);

describe('subsetIndices against PyTorch (test/fixtures/subsets.json)', () => {
  it.each(tasks)('%s', (_task, expected) => {
    const subset = subsetIndices(expected.official_train_size, expected.seed, expected.train_size, expected.val_size);
    expect(subset.train).toEqual(expected.train);
    expect(subset.val).toEqual(expected.val);
  });

  it('covers the three tasks', () => {
    expect(tasks.map(([task]) => task).sort()).toEqual(['easy_mnist', 'hard_cifar', 'medium_fashion']);
  });
});

describe('subsetIndices input checks', () => {
  it('takes consecutive slices of one permutation', () => {
    const small = subsetIndices(100, 7, 10, 5);
    const all = subsetIndices(100, 7, 100, 0);
    expect([...small.train, ...small.val]).toEqual(all.train.slice(0, 15));
    expect(new Set(all.train).size).toBe(100);
  });

  it('refuses sizes that do not fit the official split', () => {
    expect(() => subsetIndices(100, 1, 90, 20)).toThrow(/exceeds the official training split of 100/);
    expect(() => subsetIndices(100, 1, -1, 0)).toThrow(DatasetError);
    expect(() => subsetIndices(100, 1, 1.5, 0)).toThrow(/trainSize must be a non-negative integer/);
  });
});
