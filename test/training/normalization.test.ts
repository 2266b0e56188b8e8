import { createHash } from 'node:crypto';
import type { DatasetName } from '../../layers/datasets/src/task-data';
import { blackLevel, normalisationTable } from '../../layers/training/src/data/normalization';
import { splitTensors } from '../../layers/training/src/data/split-tensors';

// SHA-256 (first 16 hex digits) of pt_reference.normalize_u8 applied to bytes 0..255 of each
// channel (float32, NCHW), torch 2.13.0: uint8 → float32 / 255 → (x − mean) / std.
const TORCH_NORMALISED: Record<DatasetName, string> = {
  mnist: '0103dbab6b16bfca',
  fashion_mnist: '897c26057ea3a3d3',
  cifar10: '9e58fd8280aea6af',
};

describe('normalisation', () => {
  it.each(Object.keys(TORCH_NORMALISED) as DatasetName[])('%s gives PyTorch\'s float32 values bit for bit', (dataset) => {
    const tables = normalisationTable(dataset);
    const hash = createHash('sha256');
    for (const t of tables) hash.update(new Uint8Array(t.buffer));
    expect(hash.digest('hex').slice(0, 16)).toBe(TORCH_NORMALISED[dataset]);
  });

  it('takes black (byte 0) to the documented fill values', () => {
    expect(blackLevel('mnist')).toEqual([Math.fround(-0.4242129623889923)]);
    expect(blackLevel('cifar10').map((v) => v.toFixed(6))).toEqual(['-1.989474', '-1.980288', '-1.706804']);
  });

  it('turns N×C×H×W bytes into one N×H×W×C float tensor and int32 labels', () => {
    const images = Uint8Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i);
    const split = splitTensors({
      dataset: 'cifar10', channels: 3, height: 2, width: 2,
      train: { images, labels: Uint8Array.from([3, 9]), count: 2 },
      val: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
    }, 'train');
    expect(split.images.shape).toEqual([2, 2, 2, 3]);
    const tables = normalisationTable('cifar10');
    const got = split.images.arraySync();
    // image 1, row 0, column 1, channel 2 ← byte (1·3 + 2)·4 + 1 = 21
    expect(got[1]![0]![1]![2]).toBe(tables[2]![21]);
    expect(got[0]![1]![0]![0]).toBe(tables[0]![2]);
    expect(Array.from(split.labels.dataSync())).toEqual([3, 9]);
    expect(split.labels.dtype).toBe('int32');
    split.images.dispose();
    split.labels.dispose();
  });

  it('rejects inconsistent image sets', () => {
    const bad = {
      dataset: 'mnist' as const, channels: 1, height: 28, width: 28,
      train: { images: new Uint8Array(10), labels: new Uint8Array(1), count: 1 },
      val: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
    };
    expect(() => splitTensors(bad, 'train')).toThrow(/hold 10 bytes, expected 784/);
    const badLabel = { ...bad, train: { images: new Uint8Array(784), labels: Uint8Array.from([10]), count: 1 } };
    expect(() => splitTensors(badLabel, 'train')).toThrow(/label 10/);
  });
});
