import { DatasetError } from '../../layers/datasets/src/dataset-error';
import { parseIdxImages, parseIdxLabels } from '../../layers/datasets/src/idx';
import { idxImages, idxLabels } from './helpers/tiny-datasets';

const images = { path: '/data/mnist/train-images-idx3-ubyte', count: 5, rows: 28, cols: 28, remedy: 'REMEDY.' };
const labels = { path: '/data/mnist/train-labels-idx1-ubyte', count: 5, remedy: 'REMEDY.' };

function errorOf(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DatasetError) return err;
    throw err;
  }
  throw new Error('expected a DatasetError');
}

describe('IDX images', () => {
  it('parses the header and exposes the pixels', () => {
    const parsed = parseIdxImages(idxImages(5), images);
    expect(parsed).toMatchObject({ count: 5, rows: 28, cols: 28 });
    expect(parsed.pixels.length).toBe(5 * 784);
    expect(parsed.pixels[784]).toBe(1); // image 1 starts with its index
  });

  it('refuses a label file handed over as images, naming both magics, the file and the remedy', () => {
    const error = errorOf(() => parseIdxImages(idxLabels(5), images));
    expect(error.code).toBe('corrupt_file');
    expect(error.file).toBe(images.path);
    expect(error.message).toBe(
      '/data/mnist/train-images-idx3-ubyte: expected IDX images magic number 2051 (0x00000803), ' +
        'found 0x00000801 (an IDX label file). REMEDY.',
    );
  });

  it('refuses a foreign file (bad magic)', () => {
    expect(() => parseIdxImages(Buffer.from('<html>Not Found</html>'), images)).toThrow(/expected IDX images magic number 2051.*found 0x3c68746d/);
  });

  it('refuses other image dimensions', () => {
    expect(() => parseIdxImages(idxImages(5, 0, 32, 32), images)).toThrow(/expected images of 28×28, found images of 32×32/);
  });

  it('refuses a different image count', () => {
    expect(() => parseIdxImages(idxImages(4), images)).toThrow(/expected 5 images, found a header declaring 4 images/);
  });

  it('refuses a truncated file and trailing bytes', () => {
    const full = idxImages(5);
    expect(() => parseIdxImages(full.subarray(0, full.length - 1), images)).toThrow(
      /expected 3936 bytes for 5 images of 28×28, found 3935 bytes \(truncated file\)/,
    );
    expect(() => parseIdxImages(full.subarray(0, 10), images)).toThrow(/expected an IDX image header of 16 bytes, found only 10 bytes/);
    expect(() => parseIdxImages(full.subarray(0, 2), images)).toThrow(/found a file of only 2 bytes \(truncated file\)/);
    expect(() => parseIdxImages(Buffer.concat([full, Buffer.alloc(3)]), images)).toThrow(/3 unexpected trailing bytes/);
  });
});

describe('IDX labels', () => {
  it('parses labels', () => {
    expect(Array.from(parseIdxLabels(idxLabels(5), labels))).toEqual([0, 3, 6, 9, 2]);
  });

  it('refuses an image file handed over as labels', () => {
    expect(() => parseIdxLabels(idxImages(5), labels)).toThrow(/expected IDX labels magic number 2049 .*found 0x00000803 \(an IDX image file\)/);
  });

  it('refuses a count that differs from the images (count mismatch)', () => {
    expect(() => parseIdxLabels(idxLabels(6), labels)).toThrow(/expected 5 labels, found a header declaring 6 labels/);
  });

  it('refuses a label out of range, naming its index', () => {
    const bad = idxLabels(5);
    bad[8 + 3] = 10;
    expect(() => parseIdxLabels(bad, labels)).toThrow(/expected labels 0–9, found label 10 at index 3/);
  });

  it('refuses a truncated label file', () => {
    expect(() => parseIdxLabels(idxLabels(5).subarray(0, 11), labels)).toThrow(/expected 13 bytes for 5 labels, found 11 bytes \(truncated file\)/);
  });
});
