import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { temporaryPathFor } from './atomic-file';
import { CIFAR_RECORD_BYTES, parseCifarBatch } from './cifar-binary';
import { CifarProvenance, CIFAR_PROVENANCE_FILE, readCifarProvenance, writeCifarProvenance } from './cifar-provenance';
import { extractMembers } from './cifar-archive';
import { sha256Hex } from './checksums';
import { readMaybeGzip } from './compressed-file';
import { datasetFolder, resolveDataDir } from './data-dir';
import { DatasetError } from './dataset-error';
import { CifarDatasetSpec, DatasetCatalog, getDatasetSpec, howToGetGoodCopy, IdxDatasetSpec, OfficialFile, OFFICIAL_CATALOG } from './dataset-catalog';
import { downloadToFile } from './http-download';
import { allFileNames, findOfficialFile } from './source-files';
import type { DatasetName } from './task-data';
import { verifyContent } from './verification';

export type FetchProgress =
  | { stage: 'download'; dataset: DatasetName; url: string; receivedBytes: number; totalBytes: number | undefined }
  | { stage: 'mirror-failed'; dataset: DatasetName; url: string; reason: string }
  | { stage: 'verified'; dataset: DatasetName; file: string }
  | { stage: 'present'; dataset: DatasetName; file: string };

export interface FetchOptions {
  dataset: DatasetName;
  /** Defaults to `resolveDataDir()`; the files go to `<dataDir>/<dataset>/`. */
  dataDir?: string;
  /** Replaces the official locations (a mirror, or a test server): files are fetched from `<baseUrl>/<file>`. */
  baseUrl?: string;
  onProgress?: (event: FetchProgress) => void;
  /** The datasets' files and official checksums; tests inject tiny ones. */
  catalog?: DatasetCatalog;
  idleTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface FetchedFile {
  name: string;
  path: string;
  /** `downloaded` now, or already `present` and verified (left alone). */
  status: 'downloaded' | 'present';
}

export interface FetchResult {
  dataset: DatasetName;
  folder: string;
  files: FetchedFile[];
}

/**
 * Downloads a dataset's official files into `<dataDir>/<dataset>/`, verifying each against
 * its official checksum before it is moved into place (temporary file + rename). A file that
 * is already there and verified is kept. A bad download is refused and leaves nothing behind.
 */
export async function fetchDataset(options: FetchOptions): Promise<FetchResult> {
  const spec = getDatasetSpec(options.dataset, options.catalog ?? OFFICIAL_CATALOG);
  const folder = datasetFolder(resolveDataDir(options.dataDir, options.env), spec.name);
  const createdFolder = !existsSync(folder);
  await mkdir(folder, { recursive: true });
  const context: FetchContext = {
    folder,
    baseUrl: options.baseUrl,
    progress: options.onProgress ?? (() => {}),
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
  };
  try {
    const files = spec.format === 'idx' ? await fetchIdxDataset(spec, context) : await fetchCifarDataset(spec, context);
    return { dataset: spec.name, folder, files };
  } catch (err) {
    if (createdFolder) await removeIfEmpty(folder);
    throw err;
  }
}

interface FetchContext {
  folder: string;
  baseUrl: string | undefined;
  progress: (event: FetchProgress) => void;
  idleTimeoutMs: number;
}

async function removeIfEmpty(folder: string): Promise<void> {
  if ((await readdir(folder)).length === 0) await rmdir(folder);
}

function joinUrl(base: string, name: string): string {
  return base.endsWith('/') ? `${base}${name}` : `${base}/${name}`;
}

// ---- MNIST and Fashion-MNIST: four gzip IDX files, each checked on its decompressed content.

async function fetchIdxDataset(spec: IdxDatasetSpec, context: FetchContext): Promise<FetchedFile[]> {
  const fetched: FetchedFile[] = [];
  for (const file of Object.values(spec.files)) fetched.push(await fetchIdxFile(spec, file, context));
  return fetched;
}

async function fetchIdxFile(spec: IdxDatasetSpec, file: OfficialFile, context: FetchContext): Promise<FetchedFile> {
  const existing = findOfficialFile(context.folder, file.name);
  if (existing !== undefined && (await isVerifiedIdxFile(spec, file, existing))) {
    context.progress({ stage: 'present', dataset: spec.name, file: existing });
    return { name: file.name, path: existing, status: 'present' };
  }
  const bases = context.baseUrl !== undefined ? [context.baseUrl] : spec.mirrors;
  const failures: string[] = [];
  for (const base of bases) {
    const url = joinUrl(base, `${file.name}.gz`);
    try {
      const path = await downloadIdxFile(spec, file, url, context);
      // A bad copy under the other name (plain vs .gz) would shadow the good one: drop it.
      if (existing !== undefined && existing !== path) await rm(existing, { force: true });
      context.progress({ stage: 'verified', dataset: spec.name, file: path });
      return { name: file.name, path, status: 'downloaded' };
    } catch (err) {
      const reason = (err as Error).message;
      failures.push(`${url}: ${reason}`);
      context.progress({ stage: 'mirror-failed', dataset: spec.name, url, reason });
    }
  }
  throw new DatasetError(
    'download_failed',
    `${spec.name}: could not fetch ${file.name}.gz from any location:\n  ${failures.join('\n  ')}\n` +
      'Check the network, or pass --base-url to use a mirror, or copy the official files into ' +
      `${context.folder} by hand.`,
    join(context.folder, `${file.name}.gz`),
  );
}

async function isVerifiedIdxFile(spec: IdxDatasetSpec, file: OfficialFile, path: string): Promise<boolean> {
  try {
    const content = await readMaybeGzip(path, file.rawBytes, howToGetGoodCopy(spec.name));
    return verifyContent(spec, file.name, path, content.bytes, undefined).status === 'verified';
  } catch {
    return false;
  }
}

/** Downloads to a temporary file, checks the decompressed content, then renames it into place. */
async function downloadIdxFile(spec: IdxDatasetSpec, file: OfficialFile, url: string, context: FetchContext): Promise<string> {
  const temporary = temporaryPathFor(join(context.folder, `${file.name}.gz`));
  try {
    await downloadToFile(url, temporary, bytesReporter(spec.name, url, context), context.idleTimeoutMs);
    const content = await readMaybeGzip(temporary, file.rawBytes, 'The download is damaged.');
    const check = verifyContent(spec, file.name, url, content.bytes, undefined);
    if (check.status !== 'verified') throw new Error(`refused: ${check.reason}`);
    // Stored as received: `<name>.gz`, or `<name>` if a server handed out the content uncompressed.
    const finalPath = join(context.folder, content.wasGzip ? `${file.name}.gz` : file.name);
    await rename(temporary, finalPath);
    return finalPath;
  } finally {
    await rm(temporary, { force: true });
  }
}

function bytesReporter(dataset: DatasetName, url: string, context: FetchContext) {
  return (receivedBytes: number, totalBytes: number | undefined): void =>
    context.progress({ stage: 'download', dataset, url, receivedBytes, totalBytes });
}

// ---- CIFAR-10: one tar.gz, checked by its MD5; the batches are extracted and recorded.

async function fetchCifarDataset(spec: CifarDatasetSpec, context: FetchContext): Promise<FetchedFile[]> {
  const names = [...allFileNames(spec), ...spec.extraFiles];
  if (await isVerifiedCifarFolder(spec, context.folder)) {
    return names.map((name) => {
      const path = findOfficialFile(context.folder, name) ?? join(context.folder, name);
      context.progress({ stage: 'present', dataset: spec.name, file: path });
      return { name, path, status: 'present' as const };
    });
  }
  const url = context.baseUrl !== undefined ? joinUrl(context.baseUrl, basename(new URL(spec.archive.url).pathname)) : spec.archive.url;
  try {
    await downloadAndExtractCifar(spec, url, names, context);
  } catch (err) {
    context.progress({ stage: 'mirror-failed', dataset: spec.name, url, reason: (err as Error).message });
    throw new DatasetError(
      'download_failed',
      `cifar10: could not fetch ${url}: ${(err as Error).message}\n` +
        'Check the network, or pass --base-url to use a mirror, or extract the official ' +
        `cifar-10-binary.tar.gz into ${context.folder} by hand (it will then count as unverified).`,
      url,
    );
  }
  return names.map((name) => {
    const path = join(context.folder, name);
    context.progress({ stage: 'verified', dataset: spec.name, file: path });
    return { name, path, status: 'downloaded' as const };
  });
}

/** True when every batch is present and matches the record of an extraction from the official archive. */
async function isVerifiedCifarFolder(spec: CifarDatasetSpec, folder: string): Promise<boolean> {
  const provenance = await readCifarProvenance(folder);
  if (provenance === undefined || provenance.archiveMd5 !== spec.archive.md5) return false;
  for (const name of allFileNames(spec)) {
    const path = findOfficialFile(folder, name);
    if (path === undefined) return false;
    try {
      const content = await readMaybeGzip(path, spec.recordsPerBatch * CIFAR_RECORD_BYTES, '');
      if (verifyContent(spec, name, path, content.bytes, provenance).status !== 'verified') return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function downloadAndExtractCifar(spec: CifarDatasetSpec, url: string, names: string[], context: FetchContext): Promise<void> {
  const archive = temporaryPathFor(join(context.folder, 'cifar-10-binary.tar.gz'));
  const extracted = new Map<string, string>();
  try {
    const download = await downloadToFile(url, archive, bytesReporter(spec.name, url, context), context.idleTimeoutMs);
    if (download.md5 !== spec.archive.md5) {
      throw new Error(`refused: the archive's MD5 is ${download.md5}, the official one is ${spec.archive.md5}`);
    }
    await extractMembers(archive, spec.archive.memberDir, names, context.folder, extracted);
    const missing = names.filter((name) => !extracted.has(name));
    if (missing.length > 0) throw new Error(`the archive lacks ${missing.map((n) => `${spec.archive.memberDir}/${n}`).join(', ')}`);
    const files = await checkExtracted(spec, extracted);
    await installExtracted(context.folder, extracted, { archiveUrl: url, archiveMd5: download.md5, extractedAt: new Date().toISOString(), files });
  } finally {
    await rm(archive, { force: true });
    await Promise.all([...extracted.values()].map((path) => rm(path, { force: true })));
  }
}

/** Checks each extracted batch's structure and records every file's SHA-256. */
async function checkExtracted(spec: CifarDatasetSpec, extracted: Map<string, string>): Promise<CifarProvenance['files']> {
  const batches = new Set(allFileNames(spec));
  const files: CifarProvenance['files'] = {};
  for (const [name, path] of extracted) {
    const bytes = await readFile(path);
    if (batches.has(name)) {
      const where = `${spec.archive.memberDir}/${name} in the archive`;
      parseCifarBatch(bytes, { path: where, records: spec.recordsPerBatch, remedy: 'The archive is not the CIFAR-10 binary version.' });
    }
    files[name] = { sha256: sha256Hex(bytes), bytes: bytes.length };
  }
  return files;
}

/** Drops the old record, moves the files into place, then writes the new record last. */
async function installExtracted(folder: string, extracted: Map<string, string>, provenance: CifarProvenance): Promise<void> {
  await rm(join(folder, CIFAR_PROVENANCE_FILE), { force: true });
  for (const [name, temporary] of extracted) await rename(temporary, join(folder, name));
  await writeCifarProvenance(folder, provenance);
}
