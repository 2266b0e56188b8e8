import { CIFAR_RECORD_BYTES, parseCifarBatch } from './cifar-binary';
import { CifarProvenance, readCifarProvenance } from './cifar-provenance';
import { readMaybeGzip } from './compressed-file';
import { resolveDataDir } from './data-dir';
import { DatasetError } from './dataset-error';
import { DatasetCatalog, DatasetSpec, DATASET_NAMES, getDatasetSpec, howToGetGoodCopy, IdxDatasetSpec, OFFICIAL_CATALOG } from './dataset-catalog';
import { parseIdxImages, parseIdxLabels } from './idx';
import { allFileNames, findDatasetFolder, findOfficialFile } from './source-files';
import type { DatasetName } from './task-data';
import { VerificationStatus, verifyContent } from './verification';

export type FileStatus = VerificationStatus | 'missing' | 'corrupt';

export interface FileReport {
  name: string;
  /** Where the file was found, or where it was looked for. */
  path: string;
  status: FileStatus;
  /** SHA-256 of the decompressed content, when it could be read. */
  sha256?: string;
  reason: string;
}

export interface DatasetReport {
  dataset: DatasetName;
  folder: string;
  /** True when every official file is present and verified. */
  verified: boolean;
  files: FileReport[];
}

export interface VerifyOptions {
  dataDir?: string;
  datasets?: readonly DatasetName[];
  catalog?: DatasetCatalog;
  env?: NodeJS.ProcessEnv;
}

/** Checks every official file (training and test) of each dataset: present, well-formed, official. */
export async function verifyDatasets(options: VerifyOptions = {}): Promise<DatasetReport[]> {
  const dataDir = resolveDataDir(options.dataDir, options.env);
  const reports: DatasetReport[] = [];
  for (const dataset of options.datasets ?? DATASET_NAMES) {
    reports.push(await verifyDataset(getDatasetSpec(dataset, options.catalog ?? OFFICIAL_CATALOG), dataDir));
  }
  return reports;
}

async function verifyDataset(spec: DatasetSpec, dataDir: string): Promise<DatasetReport> {
  const folder = findDatasetFolder(dataDir, spec);
  const provenance = spec.format === 'cifar-binary' ? await readCifarProvenance(folder) : undefined;
  const files: FileReport[] = [];
  for (const name of allFileNames(spec)) files.push(await verifyFile(spec, folder, name, provenance));
  return { dataset: spec.name, folder, verified: files.every((f) => f.status === 'verified'), files };
}

async function verifyFile(spec: DatasetSpec, folder: string, name: string, provenance: CifarProvenance | undefined): Promise<FileReport> {
  const path = findOfficialFile(folder, name);
  if (path === undefined) {
    return { name, path: `${folder}/${name}`, status: 'missing', reason: `not found (nor ${name}.gz)` };
  }
  try {
    const bytes = await readAndCheckStructure(spec, name, path);
    const check = verifyContent(spec, name, path, bytes, provenance);
    return { name, path, status: check.status, sha256: check.sha256, reason: check.reason };
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    return { name, path, status: 'corrupt', reason: err.message };
  }
}

async function readAndCheckStructure(spec: DatasetSpec, name: string, path: string): Promise<Uint8Array> {
  const remedy = howToGetGoodCopy(spec.name);
  if (spec.format === 'cifar-binary') {
    const content = await readMaybeGzip(path, spec.recordsPerBatch * CIFAR_RECORD_BYTES, remedy);
    parseCifarBatch(content.bytes, { path, records: spec.recordsPerBatch, remedy });
    return content.bytes;
  }
  const { count, images } = idxRole(spec, name);
  const rowBytes = spec.height * spec.width;
  const content = await readMaybeGzip(path, images ? 16 + count * rowBytes : 8 + count, remedy);
  if (images) parseIdxImages(content.bytes, { path, count, rows: spec.height, cols: spec.width, remedy });
  else parseIdxLabels(content.bytes, { path, count, remedy });
  return content.bytes;
}

function idxRole(spec: IdxDatasetSpec, name: string): { count: number; images: boolean } {
  const { trainImages, trainLabels, testImages } = spec.files;
  const count = name === trainImages.name || name === trainLabels.name ? spec.trainCount : spec.testCount;
  return { count, images: name === trainImages.name || name === testImages.name };
}
