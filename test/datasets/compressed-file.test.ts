import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isGzip, readMaybeGzip } from '../../layers/datasets/src/compressed-file';
import { tempDir } from './helpers/tiny-datasets';

describe('readMaybeGzip', () => {
  const dir = tempDir();
  const content = Buffer.from('some IDX-like bytes '.repeat(50));

  it('decides by the magic bytes 1f 8b, not by the name', () => {
    const gzipNoSuffix = join(dir, 'train-images-idx3-ubyte');
    const plainWithSuffix = join(dir, 'train-labels-idx1-ubyte.gz');
    writeFileSync(gzipNoSuffix, gzipSync(content));
    writeFileSync(plainWithSuffix, content);
    return Promise.all([readMaybeGzip(gzipNoSuffix, 10_000, ''), readMaybeGzip(plainWithSuffix, 10_000, '')]).then(([a, b]) => {
      expect(a.wasGzip).toBe(true);
      expect(a.bytes.equals(content)).toBe(true);
      expect(b.wasGzip).toBe(false);
      expect(b.bytes.equals(content)).toBe(true);
    });
  });

  it('reports a truncated gzip file with its path and the remedy', async () => {
    const path = join(dir, 'truncated.gz');
    const gz = gzipSync(content);
    writeFileSync(path, gz.subarray(0, gz.length - 12));
    await expect(readMaybeGzip(path, 10_000, 'REMEDY.')).rejects.toThrow(
      `${path}: the gzip data ends early (truncated file or interrupted download). REMEDY.`,
    );
  });

  it('reports damaged gzip data', async () => {
    const path = join(dir, 'damaged.gz');
    const gz = gzipSync(content);
    gz[gz.length - 20] ^= 0xff;
    gz[15] ^= 0xff;
    writeFileSync(path, gz);
    await expect(readMaybeGzip(path, 10_000, 'REMEDY.')).rejects.toMatchObject({ code: 'corrupt_file', file: path });
  });

  it('refuses content larger than the file can be (a foreign file or a gzip bomb)', async () => {
    const path = join(dir, 'big.gz');
    writeFileSync(path, gzipSync(Buffer.alloc(100_000)));
    await expect(readMaybeGzip(path, 1000, 'REMEDY.')).rejects.toThrow(/expected at most 1000 bytes once decompressed, found more/);
  });

  it('isGzip looks at the first two bytes only', () => {
    expect(isGzip(Uint8Array.from([0x1f, 0x8b, 0]))).toBe(true);
    expect(isGzip(Uint8Array.from([0x1f]))).toBe(false);
    expect(isGzip(Uint8Array.from([0, 0, 8, 3]))).toBe(false);
  });
});
