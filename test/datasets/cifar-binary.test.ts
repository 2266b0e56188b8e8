import { cifarRecordImage, cifarRecordLabel, parseCifarBatch } from '../../layers/datasets/src/cifar-binary';
import { cifarBatch, idxImages, labelOf } from './helpers/tiny-datasets';

const expected = { path: '/data/cifar10/data_batch_2.bin', records: 4, remedy: 'REMEDY.' };

describe('CIFAR-10 binary batches', () => {
  it('reads labels and CHW images record by record', () => {
    const batch = parseCifarBatch(cifarBatch(4), expected);
    expect(batch.records).toBe(4);
    expect([0, 1, 2, 3].map((r) => cifarRecordLabel(batch, r))).toEqual([4, 5, 6, 7].map((i) => labelOf(i)));
    const image = cifarRecordImage(batch, 2);
    expect(image.length).toBe(3072);
    expect(image[0]).toBe(6);
  });

  it('refuses a truncated batch, saying what size it expected', () => {
    const full = cifarBatch(0);
    expect(() => parseCifarBatch(full.subarray(0, full.length - 100), expected)).toThrow(
      '/data/cifar10/data_batch_2.bin: expected 12292 bytes (4 records of 3073 bytes), ' +
        'found 12192 bytes (3.97 records; truncated file or not a CIFAR-10 batch). REMEDY.',
    );
  });

  it('refuses a foreign file (an IDX file) by its size', () => {
    expect(() => parseCifarBatch(idxImages(3), expected)).toThrow(/found 2368 bytes .*not a CIFAR-10 batch/);
  });

  it('refuses a batch with more records than expected', () => {
    expect(() => parseCifarBatch(cifarBatch(0, 5), expected)).toThrow(/found 15365 bytes \(5 records; not a CIFAR-10 batch\)/);
  });

  it('refuses a label byte out of range, naming the record', () => {
    const bad = cifarBatch(0);
    bad[3 * 3073] = 200;
    expect(() => parseCifarBatch(bad, expected)).toThrow(/expected labels 0–9, found label byte 200 in record 3/);
  });
});
