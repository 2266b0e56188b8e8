/**
 * Tiny datasets in the official formats, and a catalog that declares them "official",
 * so the loader, fetch and verify can be tested without the real files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create } from 'tar';
import { CifarDatasetSpec, DatasetCatalog, IdxDatasetSpec, OFFICIAL_CATALOG } from '../../../layers/datasets/src/dataset-catalog';

export const TINY_IDX_TRAIN = 50;
export const TINY_IDX_TEST = 10;
export const TINY_CIFAR_RECORDS = 4;
export const TINY_CIFAR_BATCHES = 5;
export const TINY_CIFAR_TRAIN = TINY_CIFAR_RECORDS * TINY_CIFAR_BATCHES;

const createdDirs: string[] = [];

/** A fresh temporary directory, removed after the test file's tests. */
export function tempDir(prefix = 'mlt-datasets-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of createdDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** The label every tiny image of global index `i` carries. */
export function labelOf(i: number, salt = 0): number {
  return (i * 3 + salt) % 10;
}

/** An image whose first two bytes spell its global index, so tests can tell rows apart. */
function fillImage(target: Uint8Array, offset: number, bytes: number, index: number, salt: number): void {
  for (let p = 0; p < bytes; p++) target[offset + p] = (index * 31 + p * 7 + salt) & 0xff;
  target[offset] = index & 0xff;
  target[offset + 1] = (index >> 8) & 0xff;
}

export function idxImages(count: number, salt = 0, rows = 28, cols = 28): Buffer {
  const out = Buffer.alloc(16 + count * rows * cols);
  out.writeUInt32BE(2051, 0);
  out.writeUInt32BE(count, 4);
  out.writeUInt32BE(rows, 8);
  out.writeUInt32BE(cols, 12);
  for (let i = 0; i < count; i++) fillImage(out, 16 + i * rows * cols, rows * cols, i, salt);
  return out;
}

export function idxLabels(count: number, salt = 0): Buffer {
  const out = Buffer.alloc(8 + count);
  out.writeUInt32BE(2049, 0);
  out.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) out[8 + i] = labelOf(i, salt);
  return out;
}

/** One batch: records of global indices first..first+records-1. */
export function cifarBatch(first: number, records = TINY_CIFAR_RECORDS, salt = 0): Buffer {
  const out = Buffer.alloc(records * 3073);
  for (let r = 0; r < records; r++) {
    out[r * 3073] = labelOf(first + r, salt);
    fillImage(out, r * 3073 + 1, 3072, first + r, salt);
  }
  return out;
}

/** The raw content of every tiny IDX file, by official name. */
export function tinyIdxFiles(salt = 0): Record<string, Buffer> {
  return {
    'train-images-idx3-ubyte': idxImages(TINY_IDX_TRAIN, salt),
    'train-labels-idx1-ubyte': idxLabels(TINY_IDX_TRAIN, salt),
    't10k-images-idx3-ubyte': idxImages(TINY_IDX_TEST, salt + 1),
    't10k-labels-idx1-ubyte': idxLabels(TINY_IDX_TEST, salt + 1),
  };
}

export function tinyCifarFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let b = 0; b < TINY_CIFAR_BATCHES; b++) files[`data_batch_${b + 1}.bin`] = cifarBatch(b * TINY_CIFAR_RECORDS);
  files['test_batch.bin'] = cifarBatch(0, TINY_CIFAR_RECORDS, 5);
  files['batches.meta.txt'] = Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
  return files;
}

/** The official CIFAR-10 archive layout (cifar-10-batches-bin/...), tiny, as tar.gz bytes. */
export async function tinyCifarArchive(files = tinyCifarFiles()): Promise<Buffer> {
  const staging = tempDir('mlt-cifar-archive-');
  mkdirSync(join(staging, 'cifar-10-batches-bin'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(staging, 'cifar-10-batches-bin', name), bytes);
  writeFileSync(join(staging, 'cifar-10-batches-bin', 'readme.html'), '<html></html>');
  const archivePath = join(staging, 'archive.tar.gz');
  await create({ gzip: true, file: archivePath, cwd: staging, portable: true }, ['cifar-10-batches-bin']);
  return readFileSync(archivePath);
}

function idxSpec(base: IdxDatasetSpec, files: Record<string, Buffer>): IdxDatasetSpec {
  const official = (name: string) => ({ name, rawBytes: files[name].length, rawSha256: sha256(files[name]) });
  return {
    ...base,
    trainCount: TINY_IDX_TRAIN,
    testCount: TINY_IDX_TEST,
    files: {
      trainImages: official('train-images-idx3-ubyte'),
      trainLabels: official('train-labels-idx1-ubyte'),
      testImages: official('t10k-images-idx3-ubyte'),
      testLabels: official('t10k-labels-idx1-ubyte'),
    },
  };
}

/** A catalog in which the tiny files are the official ones (archiveMd5: the tiny archive's MD5). */
export function tinyCatalog(archiveMd5 = '0'.repeat(32)): DatasetCatalog {
  const cifar = OFFICIAL_CATALOG.cifar10 as CifarDatasetSpec;
  return {
    mnist: idxSpec(OFFICIAL_CATALOG.mnist as IdxDatasetSpec, tinyIdxFiles(0)),
    fashion_mnist: idxSpec(OFFICIAL_CATALOG.fashion_mnist as IdxDatasetSpec, tinyIdxFiles(100)),
    cifar10: {
      ...cifar,
      trainCount: TINY_CIFAR_TRAIN,
      recordsPerBatch: TINY_CIFAR_RECORDS,
      archive: { ...cifar.archive, md5: archiveMd5 },
    },
  };
}

/** Writes the tiny MNIST (or Fashion) files into `<dataDir>/<dataset>/`, gzip-compressed or plain. */
export function writeTinyIdx(dataDir: string, dataset: 'mnist' | 'fashion_mnist', gzip: boolean): string {
  const folder = join(dataDir, dataset);
  mkdirSync(folder, { recursive: true });
  for (const [name, bytes] of Object.entries(tinyIdxFiles(dataset === 'mnist' ? 0 : 100))) {
    writeFileSync(join(folder, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  }
  return folder;
}

/** Writes the tiny CIFAR batches into `<dataDir>/<folderName>/`, without any provenance record. */
export function writeTinyCifar(dataDir: string, gzip: boolean, folderName = 'cifar10'): string {
  const folder = join(dataDir, folderName);
  mkdirSync(folder, { recursive: true });
  for (const [name, bytes] of Object.entries(tinyCifarFiles())) {
    writeFileSync(join(folder, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  }
  return folder;
}

/** The expected first two bytes of the image of global index i (see fillImage). */
export function indexMark(i: number): [number, number] {
  return [i & 0xff, (i >> 8) & 0xff];
}
