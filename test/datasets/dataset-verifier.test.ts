import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCifarProvenance } from '../../layers/datasets/src/cifar-provenance';
import { verifyDatasets } from '../../layers/datasets/src/dataset-verifier';
import { idxLabels, sha256, tempDir, tinyCatalog, tinyCifarFiles, writeTinyCifar, writeTinyIdx } from './helpers/tiny-datasets';

const catalog = tinyCatalog('c'.repeat(32));

describe('verifyDatasets', () => {
  it('verifies official IDX files (plain or gzip) and names each problem', async () => {
    const dataDir = tempDir();
    const folder = writeTinyIdx(dataDir, 'fashion_mnist', true);
    const [clean] = await verifyDatasets({ dataDir, datasets: ['fashion_mnist'], catalog });
    expect(clean.verified).toBe(true);
    expect(clean.files.map((f) => f.status)).toEqual(['verified', 'verified', 'verified', 'verified']);

    rmSync(join(folder, 't10k-labels-idx1-ubyte.gz'));
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), idxLabels(50, 7)); // plain wins over .gz: well-formed, not official
    writeFileSync(join(folder, 't10k-images-idx3-ubyte.gz'), 'garbage');
    const [report] = await verifyDatasets({ dataDir, datasets: ['fashion_mnist'], catalog });
    expect(report.verified).toBe(false);
    expect(report.files.map((f) => [f.name, f.status])).toEqual([
      ['train-images-idx3-ubyte', 'verified'],
      ['train-labels-idx1-ubyte', 'mismatch'],
      ['t10k-images-idx3-ubyte', 'corrupt'],
      ['t10k-labels-idx1-ubyte', 'missing'],
    ]);
    expect(report.files[1].reason).toMatch(/is not the official fashion_mnist train-labels-idx1-ubyte/);
    expect(report.files[2].reason).toMatch(/expected IDX images magic number 2051/);
  });

  it('CIFAR-10: unverified without an extraction record, verified with a matching one', async () => {
    const dataDir = tempDir();
    const folder = writeTinyCifar(dataDir, false);
    const [before] = await verifyDatasets({ dataDir, datasets: ['cifar10'], catalog });
    expect(before.files.map((f) => f.status)).toEqual(Array(6).fill('no-official-checksum'));
    const files = Object.fromEntries(Object.entries(tinyCifarFiles()).map(([n, b]) => [n, { sha256: sha256(b), bytes: b.length }]));
    await writeCifarProvenance(folder, { archiveUrl: 'u', archiveMd5: 'c'.repeat(32), extractedAt: '', files });
    const [after] = await verifyDatasets({ dataDir, datasets: ['cifar10'], catalog });
    expect(after.verified).toBe(true);
    expect(after.files.map((f) => f.name)).toEqual(['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']);
  });
});
