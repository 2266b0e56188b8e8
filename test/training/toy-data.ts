import type { DatasetName, TaskData } from '../../layers/datasets/src/task-data';

const SHAPES: Record<DatasetName, { channels: number; height: number; width: number }> = {
  mnist: { channels: 1, height: 28, width: 28 },
  fashion_mnist: { channels: 1, height: 28, width: 28 },
  cifar10: { channels: 3, height: 32, width: 32 },
};

export const TOY_TASKS = [
  { taskId: 'easy_mnist', dataset: 'mnist', model: 'simple_mlp', seed: 42 },
  { taskId: 'medium_fashion', dataset: 'fashion_mnist', model: 'small_cnn', seed: 123 },
  { taskId: 'hard_cifar', dataset: 'cifar10', model: 'deeper_cnn', seed: 456 },
] as const;

/**
 * A separable toy problem in a real task's image shape: class k has a bright 6×6 square at
 * one of 10 places (channel k mod C for colour images) over low-level noise (bytes below `noise`;
 * none with 0: flat backgrounds).
 */
export function toyTaskData(dataset: DatasetName, trainCount: number, valCount: number, seed = 1, noise = 60): TaskData {
  const shape = SHAPES[dataset];
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const split = (count: number) => {
    const plane = shape.height * shape.width;
    const images = new Uint8Array(count * shape.channels * plane);
    const labels = new Uint8Array(count);
    for (let n = 0; n < count; n++) {
      const label = next() % 10;
      labels[n] = label;
      const base = n * shape.channels * plane;
      if (noise > 0) for (let i = 0; i < shape.channels * plane; i++) images[base + i] = next() % noise;
      const top = 2 + Math.floor(label / 5) * 12;
      const left = 2 + (label % 5) * 5;
      const channel = label % shape.channels;
      for (let y = top; y < top + 6; y++) for (let x = left; x < left + 4; x++) images[base + channel * plane + y * shape.width + x] = 200 + (next() % 56);
    }
    return { images, labels, count };
  };
  return { dataset, ...shape, train: split(trainCount), val: split(valCount) };
}
