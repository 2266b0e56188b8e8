import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeCifarProvenance } from '../../layers/datasets/src/cifar-provenance';
import type { DatasetCatalog } from '../../layers/datasets/src/dataset-catalog';
import { LoadProgress, loadTaskData, LoadTaskDataOptions } from '../../layers/datasets/src/task-data-loader';
import type { ImageSet, TaskData } from '../../layers/datasets/src/task-data';
import {
  idxImages,
  indexMark,
  labelOf,
  sha256,
  tempDir,
  tinyCatalog,
  tinyCifarFiles,
  writeTinyCifar,
  writeTinyIdx,
} from './helpers/tiny-datasets';

const catalog: DatasetCatalog = tinyCatalog();
const trainIndices = [7, 0, 42, 13, 49];
const valIndices = [21, 3];

/** A loader call that records progress and warnings. */
async function load(options: Partial<LoadTaskDataOptions> & Pick<LoadTaskDataOptions, 'dataDir'>) {
  const events: LoadProgress[] = [];
  const warnings: string[] = [];
  const data = await loadTaskData({
    dataset: 'mnist',
    trainIndices,
    valIndices,
    catalog,
    cacheDir: null,
    onProgress: (event) => events.push(event),
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  return { data, events, warnings, stages: events.map((e) => e.stage) };
}

/** Each tiny image starts with its global index; each label is labelOf(index, salt). */
function expectRows(set: ImageSet, indices: number[], rowBytes: number, salt = 0): void {
  expect(set.count).toBe(indices.length);
  expect(set.images.length).toBe(indices.length * rowBytes);
  indices.forEach((index, i) => {
    expect([set.images[i * rowBytes], set.images[i * rowBytes + 1]]).toEqual(indexMark(index));
    expect(set.labels[i]).toBe(labelOf(index, salt));
  });
}

function expectSameData(a: TaskData, b: TaskData): void {
  expect(Buffer.from(a.train.images).equals(Buffer.from(b.train.images))).toBe(true);
  expect(Buffer.from(a.train.labels).equals(Buffer.from(b.train.labels))).toBe(true);
  expect(Buffer.from(a.val.images).equals(Buffer.from(b.val.images))).toBe(true);
  expect(Buffer.from(a.val.labels).equals(Buffer.from(b.val.labels))).toBe(true);
}

describe('loadTaskData: MNIST-like IDX files', () => {
  it.each([
    ['plain', false],
    ['gzip', true],
  ])('picks the subset rows in index order from %s files', async (_kind, gzip) => {
    const dataDir = tempDir();
    writeTinyIdx(dataDir, 'mnist', gzip);
    const { data, warnings, stages } = await load({ dataDir });
    expect(data).toMatchObject({ dataset: 'mnist', channels: 1, height: 28, width: 28 });
    expectRows(data.train, trainIndices, 784);
    expectRows(data.val, valIndices, 784);
    expect(warnings).toEqual([]);
    expect(stages).toEqual(['decoding', 'decoding']);
  });

  it('reads Fashion-MNIST from its own folder', async () => {
    const dataDir = tempDir();
    writeTinyIdx(dataDir, 'fashion_mnist', true);
    const { data } = await load({ dataDir, dataset: 'fashion_mnist' });
    expectRows(data.train, trainIndices, 784, 100);
  });

  it('names the missing file and says how to get it', async () => {
    const dataDir = tempDir();
    const folder = writeTinyIdx(dataDir, 'mnist', true);
    rmSync(join(folder, 'train-labels-idx1-ubyte.gz'));
    await expect(load({ dataDir })).rejects.toMatchObject({
      code: 'missing_file',
      message:
        `mnist: missing file ${folder}/train-labels-idx1-ubyte (or ${folder}/train-labels-idx1-ubyte.gz). ` +
        'Get a good copy with `ml-trainer datasets fetch --dataset mnist`, ' +
        'or point --data-dir (or ML_TRAINER_DATA_DIR) at a directory holding the official files.',
    });
  });

  it('uses ML_TRAINER_DATA_DIR when no data dir is given', async () => {
    const dataDir = tempDir();
    writeTinyIdx(dataDir, 'mnist', false);
    const { data } = await load({ dataDir: undefined, env: { ML_TRAINER_DATA_DIR: dataDir } });
    expectRows(data.val, valIndices, 784);
  });

  it('refuses a file whose content is not the official one, unless allowUnverified (then it warns)', async () => {
    const dataDir = tempDir();
    const folder = writeTinyIdx(dataDir, 'mnist', false);
    const altered = idxImages(50, 9); // well-formed, but other pixels
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), altered);
    const path = join(folder, 'train-images-idx3-ubyte');
    await expect(load({ dataDir })).rejects.toMatchObject({ code: 'checksum_mismatch', file: path });
    await expect(load({ dataDir })).rejects.toThrow(
      new RegExp(`^${path}: its decompressed content \\(39216 bytes, SHA-256 ${sha256(altered)}\\) is not the official mnist .*` +
        'To use it anyway, pass allowUnverified: true \\(CLI: --allow-unverified-data\\)\\.$'),
    );
    const { data, warnings } = await load({ dataDir, allowUnverified: true });
    expect(data.train.count).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^mnist: using UNVERIFIED data \(allowUnverified is set\): train-images-idx3-ubyte in .*: its decompressed content/);
  });

  it('refuses structurally broken files even when unverified files are allowed', async () => {
    const dataDir = tempDir();
    const folder = writeTinyIdx(dataDir, 'mnist', true);
    const gz = gzipSync(idxImages(50).subarray(0, 5000));
    writeFileSync(join(folder, 'train-images-idx3-ubyte.gz'), gz);
    await expect(load({ dataDir, allowUnverified: true })).rejects.toThrow(
      /train-images-idx3-ubyte.gz: expected 39216 bytes for 50 images of 28×28, found 5000 bytes \(truncated file\)\. Get a good copy/,
    );
  });

  it('refuses a foreign file in place of an official one', async () => {
    const dataDir = tempDir();
    const folder = writeTinyIdx(dataDir, 'mnist', false);
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), readFileSync(join(folder, 't10k-images-idx3-ubyte')));
    await expect(load({ dataDir, allowUnverified: true })).rejects.toThrow(/expected IDX labels magic number 2049 .*\(an IDX image file\)/);
  });

  it('refuses indices outside the split, duplicates and overlaps', async () => {
    const dataDir = tempDir();
    writeTinyIdx(dataDir, 'mnist', false);
    await expect(load({ dataDir, trainIndices: [1, 50] })).rejects.toThrow(
      'trainIndices[1] = 50 is not a row of the mnist training split (0..49)',
    );
    await expect(load({ dataDir, trainIndices: [1.5] })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(load({ dataDir, trainIndices: [4, 4] })).rejects.toThrow('mnist row 4 appears twice (in trainIndices and trainIndices)');
    await expect(load({ dataDir, trainIndices: [3], valIndices: [3] })).rejects.toThrow('mnist row 3 appears twice (in trainIndices and valIndices)');
  });
});

describe('loadTaskData: the subset cache', () => {
  function setup() {
    const dataDir = tempDir();
    const folder = writeTinyIdx(dataDir, 'mnist', true);
    const cacheDir = join(tempDir(), 'cache');
    return { dataDir, folder, cacheDir };
  }

  it('a warm start reads the cache entry and decodes nothing', async () => {
    const { dataDir, cacheDir } = setup();
    const cold = await load({ dataDir, cacheDir });
    expect(cold.stages).toEqual(['cache-miss', 'decoding', 'decoding', 'cache-written']);
    const warm = await load({ dataDir, cacheDir });
    expect(warm.stages).toEqual(['cache-hit']);
    expectSameData(warm.data, cold.data);
    expect(warm.data.train.images.byteOffset).toBe(0); // arrays own their buffers
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('another index list or a changed source file gets its own entry', async () => {
    const { dataDir, folder, cacheDir } = setup();
    await load({ dataDir, cacheDir });
    const other = await load({ dataDir, cacheDir, valIndices: [22, 3] });
    expect(other.stages).toContain('decoding');
    expectRows(other.data.val, [22, 3], 784);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(folder, 'train-images-idx3-ubyte.gz'), later, later);
    expect((await load({ dataDir, cacheDir })).stages).toContain('decoding');
    expect((await load({ dataDir, cacheDir })).stages).toEqual(['cache-hit']);
  });

  it.each([
    ['a flipped payload byte', (b: Buffer) => b.fill(0x55, b.length - 100, b.length - 99)],
    ['a truncated file', (b: Buffer) => b.subarray(0, b.length - 10)],
    ['a bad magic', (b: Buffer) => b.fill(0, 0, 4)],
    ['garbage', () => Buffer.from('not a cache')],
  ])('a corrupt entry (%s) is ignored with a warning, rebuilt, and never trusted', async (_what, damage) => {
    const { dataDir, cacheDir } = setup();
    const cold = await load({ dataDir, cacheDir });
    const [entry] = readdirSync(cacheDir);
    const path = join(cacheDir, entry);
    writeFileSync(path, damage(readFileSync(path)));
    const rebuilt = await load({ dataDir, cacheDir });
    expect(rebuilt.stages).toEqual(['cache-miss', 'decoding', 'decoding', 'cache-written']);
    expect(rebuilt.warnings).toEqual([expect.stringMatching(new RegExp(`^ignoring the subset cache ${path}: .*; rebuilding it$`))]);
    expectSameData(rebuilt.data, cold.data);
    expect((await load({ dataDir, cacheDir })).stages).toEqual(['cache-hit']);
  });

  it('an entry built from unverified files is not used without allowUnverified, and warns again when it is', async () => {
    const { dataDir, folder, cacheDir } = setup();
    writeFileSync(join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(labelsWithOneChange()));
    const first = await load({ dataDir, cacheDir, allowUnverified: true });
    expect(first.warnings).toHaveLength(1);
    const warm = await load({ dataDir, cacheDir, allowUnverified: true });
    expect(warm.stages).toEqual(['cache-hit']);
    expect(warm.warnings).toEqual(first.warnings);
    await expect(load({ dataDir, cacheDir })).rejects.toMatchObject({ code: 'checksum_mismatch' });
  });

  it('a cache directory that cannot be written is reported, and the data still loads', async () => {
    const { dataDir } = setup();
    const blocker = join(tempDir(), 'file');
    writeFileSync(blocker, 'x');
    const { data, warnings } = await load({ dataDir, cacheDir: join(blocker, 'cache') });
    expect(data.train.count).toBe(5);
    expect(warnings).toEqual([expect.stringMatching(/^could not write the subset cache .*; the next start decodes again$/)]);
  });
});

function labelsWithOneChange(): Buffer {
  const labels = Buffer.alloc(8 + 50);
  labels.writeUInt32BE(2049, 0);
  labels.writeUInt32BE(50, 4);
  for (let i = 0; i < 50; i++) labels[8 + i] = labelOf(i);
  labels[8 + 49] = (labels[8 + 49] + 1) % 10;
  return labels;
}

describe('loadTaskData: CIFAR-10 binary batches', () => {
  const cifarTrain = [19, 0, 4, 11];
  const cifarVal = [8, 15];
  const loadCifar = (dataDir: string, options: Partial<LoadTaskDataOptions> = {}) =>
    load({ dataDir, dataset: 'cifar10', trainIndices: cifarTrain, valIndices: cifarVal, ...options });

  it('without a record of the official archive, needs allowUnverified and warns once per folder', async () => {
    const dataDir = tempDir();
    const folder = writeTinyCifar(dataDir, true);
    await expect(loadCifar(dataDir)).rejects.toMatchObject({ code: 'unverified', file: join(folder, 'data_batch_1.bin.gz') });
    await expect(loadCifar(dataDir)).rejects.toThrow(/there is no record \(\.official-archive\.json\) that it was extracted from the official archive/);
    const { data, warnings } = await loadCifar(dataDir, { allowUnverified: true });
    expect(data).toMatchObject({ dataset: 'cifar10', channels: 3, height: 32, width: 32 });
    expectRows(data.train, cifarTrain, 3072);
    expectRows(data.val, cifarVal, 3072);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^cifar10: using UNVERIFIED data \(allowUnverified is set\): data_batch_1\.bin\.gz, data_batch_2\.bin\.gz, .*data_batch_5\.bin\.gz in /,
      ),
    ]);
  });

  it('is verified when the extraction record matches the official archive and the content', async () => {
    const dataDir = tempDir();
    const folder = writeTinyCifar(dataDir, false);
    const files = Object.fromEntries(Object.entries(tinyCifarFiles()).map(([name, b]) => [name, { sha256: sha256(b), bytes: b.length }]));
    await writeCifarProvenance(folder, { archiveUrl: 'x', archiveMd5: catalog.cifar10.format === 'cifar-binary' ? catalog.cifar10.archive.md5 : '', extractedAt: '', files });
    const { data, warnings } = await loadCifar(dataDir);
    expect(warnings).toEqual([]);
    expectRows(data.train, cifarTrain, 3072);

    const changed = readFileSync(join(folder, 'data_batch_3.bin'));
    changed[1] ^= 1;
    writeFileSync(join(folder, 'data_batch_3.bin'), changed);
    await expect(loadCifar(dataDir)).rejects.toMatchObject({ code: 'checksum_mismatch' });
    await expect(loadCifar(dataDir)).rejects.toThrow(/data_batch_3\.bin: its content \(SHA-256 \w+\) changed since it was extracted/);
  });

  it('a record of another archive does not verify anything', async () => {
    const dataDir = tempDir();
    const folder = writeTinyCifar(dataDir, false);
    const files = Object.fromEntries(Object.entries(tinyCifarFiles()).map(([name, b]) => [name, { sha256: sha256(b), bytes: b.length }]));
    await writeCifarProvenance(folder, { archiveUrl: 'x', archiveMd5: 'f'.repeat(32), extractedAt: '', files });
    await expect(loadCifar(dataDir)).rejects.toThrow(/extracted from an archive with MD5 f{32}, not the official 0{32}/);
  });

  it('finds the JPEG stand-in folder cifar10_jpeg, which is never verified', async () => {
    const dataDir = tempDir();
    writeTinyCifar(dataDir, true, 'cifar10_jpeg');
    await expect(loadCifar(dataDir)).rejects.toThrow(/cifar10_jpeg is the lossy JPEG stand-in/);
    const { data, warnings } = await loadCifar(dataDir, { allowUnverified: true });
    expectRows(data.val, cifarVal, 3072);
    expect(warnings[0]).toMatch(/lossy JPEG stand-in/);
  });

  it('refuses a truncated batch and a label out of range', async () => {
    const dataDir = tempDir();
    const folder = writeTinyCifar(dataDir, false);
    const batch = readFileSync(join(folder, 'data_batch_4.bin'));
    writeFileSync(join(folder, 'data_batch_4.bin'), batch.subarray(0, 3073 * 3 + 5));
    await expect(loadCifar(dataDir, { allowUnverified: true })).rejects.toThrow(/data_batch_4\.bin: expected 12292 bytes \(4 records of 3073 bytes\), found 9224 bytes/);
    batch[3073] = 10;
    writeFileSync(join(folder, 'data_batch_4.bin'), batch);
    await expect(loadCifar(dataDir, { allowUnverified: true })).rejects.toThrow(/found label byte 10 in record 1/);
  });

  it('caches CIFAR subsets too, keyed on the extraction record', async () => {
    const dataDir = tempDir();
    const folder = writeTinyCifar(dataDir, true);
    const cacheDir = join(tempDir(), 'cache');
    const cold = await loadCifar(dataDir, { allowUnverified: true, cacheDir });
    const warm = await loadCifar(dataDir, { allowUnverified: true, cacheDir });
    expect(warm.stages).toEqual(['cache-hit']);
    expect(warm.warnings).toEqual(cold.warnings);
    expectSameData(warm.data, cold.data);
    await writeCifarProvenance(folder, { archiveUrl: 'x', archiveMd5: '1'.repeat(32), extractedAt: '', files: {} });
    expect((await loadCifar(dataDir, { allowUnverified: true, cacheDir })).stages).toContain('decoding');
  });
});
