import * as tf from '@tensorflow/tfjs-node';
import type { ImageSet, TaskData } from '../../../datasets/src';
import { normalisationTable } from './normalization';

/** One split, normalised once: images N×H×W×C float32 (tfjs convolutions are NHWC), labels int32. */
export interface SplitTensors {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
  count: number;
}

export const NUM_CLASSES = 10;

export function splitTensors(data: TaskData, split: 'train' | 'val'): SplitTensors {
  const set = data[split];
  checkImageSet(data, set, split);
  const { channels: c, height: h, width: w } = data;
  const tables = normalisationTable(data.dataset);
  if (tables.length !== c) throw new Error(`${data.dataset} has ${tables.length} channels, the data has ${c}`);
  return {
    images: tf.tensor4d(normalisedNhwc(set.images, set.count, h * w, tables), [set.count, h, w, c]),
    labels: tf.tensor1d(Int32Array.from(set.labels), 'int32'),
    count: set.count,
  };
}

/**
 * The images (N×C×H×W bytes) as normalised N×H×W×C floats, by table lookup: one flat loop
 * when there is one channel, else one strided pass per channel plane. A new process pays
 * this before its first batch (hard_cifar: 24.6 M values).
 */
function normalisedNhwc(images: Uint8Array, count: number, plane: number, tables: readonly Float32Array[]): Float32Array {
  const c = tables.length;
  const out = new Float32Array(count * plane * c);
  if (c === 1) {
    const table = tables[0]!;
    for (let i = 0; i < out.length; i++) out[i] = table[images[i]!]!;
    return out;
  }
  for (let n = 0; n < count; n++) {
    for (let ch = 0; ch < c; ch++) {
      const table = tables[ch]!;
      const end = (n * c + ch + 1) * plane;
      for (let src = end - plane, dst = n * plane * c + ch; src < end; src++, dst += c) out[dst] = table[images[src]!]!;
    }
  }
  return out;
}

function checkImageSet(data: TaskData, set: ImageSet, split: string): void {
  const expected = set.count * data.channels * data.height * data.width;
  if (set.images.length !== expected) {
    throw new Error(`${split} images hold ${set.images.length} bytes, expected ${expected} (${set.count}×${data.channels}×${data.height}×${data.width})`);
  }
  if (set.labels.length !== set.count) throw new Error(`${split} has ${set.labels.length} labels for ${set.count} images`);
  const bad = set.labels.findIndex((l) => l >= NUM_CLASSES);
  if (bad >= 0) throw new Error(`${split} label ${set.labels[bad]} at ${bad} is not a class 0..${NUM_CLASSES - 1}`);
}
