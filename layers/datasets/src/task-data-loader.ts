import { join } from 'node:path';
import { CIFAR_PROVENANCE_FILE } from './cifar-provenance';
import { defaultSubsetCacheDir, resolveDataDir } from './data-dir';
import { DatasetError } from './dataset-error';
import { DatasetCatalog, DatasetSpec, getDatasetSpec, OFFICIAL_CATALOG } from './dataset-catalog';
import { findDatasetFolder, locateFiles, SourceFile, trainFileNames } from './source-files';
import type { SubsetIndices } from './subset';
import { CacheRejected, readSubsetCache, subsetCacheKey, subsetCachePath, writeSubsetCache } from './subset-cache';
import { decodeSubset } from './subset-decoder';
import type { DatasetName, TaskData } from './task-data';
import type { VerificationPolicy, WarningSink } from './verification';

/** What the loader is doing; for progress display and for tests (no timings). */
export type LoadProgress =
  | { stage: 'cache-hit'; cacheFile: string }
  | { stage: 'cache-miss'; cacheFile: string; reason: string }
  | { stage: 'decoding'; file: string }
  | { stage: 'cache-written'; cacheFile: string };

export interface LoadTaskDataOptions extends VerificationPolicy {
  dataset: DatasetName;
  /** Rows of the official training split, in the order wanted. */
  trainIndices: readonly number[];
  valIndices: readonly number[];
  /** Folder with one sub-folder per dataset; defaults to `resolveDataDir()` (ML_TRAINER_DATA_DIR, then the user cache). */
  dataDir?: string;
  /** Where decoded subsets are cached; defaults to `defaultSubsetCacheDir()`; `null` turns the cache off. */
  cacheDir?: string | null;
  onProgress?: (event: LoadProgress) => void;
  /** The datasets' files and official checksums; tests inject tiny ones. */
  catalog?: DatasetCatalog;
  env?: NodeJS.ProcessEnv;
}

/**
 * The task's train/validation images (uint8, N×C×H×W) and labels, taken from the official
 * training split: rows in index order. Every source file is checked for structure and
 * against its official checksum (see VerificationPolicy). A decoded subset is cached, so a
 * warm start reads one small file instead of the whole split.
 */
export async function loadTaskData(options: LoadTaskDataOptions): Promise<TaskData> {
  const spec = getDatasetSpec(options.dataset, options.catalog ?? OFFICIAL_CATALOG);
  const indices = checkedIndices(spec, options.trainIndices, options.valIndices);
  const dataDir = resolveDataDir(options.dataDir, options.env);
  const folder = findDatasetFolder(dataDir, spec);
  const sources = locateFiles(dataDir, spec, trainFileNames(spec));
  const progress = options.onProgress ?? (() => {});
  const warn: WarningSink = options.onWarning ?? ((message) => process.emitWarning(message, 'DatasetWarning'));
  const policy: VerificationPolicy = { allowUnverified: options.allowUnverified ?? false, onWarning: warn };

  const cacheDir = options.cacheDir === undefined ? defaultSubsetCacheDir(options.env) : options.cacheDir;
  if (cacheDir === null) return (await decode(spec, folder, sources, indices, policy, progress)).data;

  const extraFiles = spec.format === 'cifar-binary' ? [join(folder, CIFAR_PROVENANCE_FILE)] : [];
  const key = await subsetCacheKey(spec, sources, extraFiles, indices);
  const cacheFile = subsetCachePath(cacheDir, spec.name, key);
  const cached = await tryCache(cacheFile, key, spec, policy, warn, progress);
  if (cached) return cached;

  const fresh = await decode(spec, folder, sources, indices, policy, progress);
  try {
    await writeSubsetCache(cacheFile, key, fresh.data, fresh.verified, fresh.warnings);
    progress({ stage: 'cache-written', cacheFile });
  } catch (err) {
    warn(`could not write the subset cache ${cacheFile} (${(err as Error).message}); the next start decodes again`);
  }
  return fresh.data;
}

async function tryCache(
  cacheFile: string,
  key: string,
  spec: DatasetSpec,
  policy: VerificationPolicy,
  warn: WarningSink,
  progress: (event: LoadProgress) => void,
): Promise<TaskData | undefined> {
  try {
    const entry = await readSubsetCache(cacheFile, key, spec);
    // An entry built from unverified files is used only when unverified files are allowed;
    // otherwise the sources are decoded again, which refuses them with the full explanation.
    if (!entry.verified && !policy.allowUnverified) throw new CacheRejected('built from unverified files', false);
    entry.warnings.forEach((message) => warn(message));
    progress({ stage: 'cache-hit', cacheFile });
    return entry.data;
  } catch (err) {
    if (!(err instanceof CacheRejected)) throw err;
    if (err.damaged) warn(`ignoring the subset cache ${cacheFile}: ${err.message}; rebuilding it`);
    progress({ stage: 'cache-miss', cacheFile, reason: err.message });
    return undefined;
  }
}

async function decode(
  spec: DatasetSpec,
  folder: string,
  sources: readonly SourceFile[],
  indices: SubsetIndices,
  policy: VerificationPolicy,
  progress: (event: LoadProgress) => void,
): Promise<{ data: TaskData; verified: boolean; warnings: string[] }> {
  const warnings: string[] = [];
  const recording: VerificationPolicy = {
    allowUnverified: policy.allowUnverified,
    onWarning: (message) => {
      warnings.push(message);
      policy.onWarning?.(message);
    },
  };
  const decoded = await decodeSubset(spec, folder, sources, indices, recording, (file) =>
    progress({ stage: 'decoding', file: file.path }),
  );
  const data: TaskData = {
    dataset: spec.name,
    channels: spec.channels,
    height: spec.height,
    width: spec.width,
    train: decoded.train,
    val: decoded.val,
  };
  return { data, verified: decoded.verified, warnings };
}

/** Indices must be integers in range, and no row may appear twice (in one list or in both). */
function checkedIndices(spec: DatasetSpec, train: readonly number[], val: readonly number[]): SubsetIndices {
  const seen = new Map<number, string>();
  const check = (list: readonly number[], name: string): number[] => {
    list.forEach((index, position) => {
      if (!Number.isInteger(index) || index < 0 || index >= spec.trainCount) {
        throw new DatasetError(
          'invalid_request',
          `${name}Indices[${position}] = ${index} is not a row of the ${spec.name} training split (0..${spec.trainCount - 1})`,
        );
      }
      const earlier = seen.get(index);
      if (earlier !== undefined) {
        throw new DatasetError('invalid_request', `${spec.name} row ${index} appears twice (in ${earlier}Indices and ${name}Indices)`);
      }
      seen.set(index, name);
    });
    return [...list];
  };
  return { train: check(train, 'train'), val: check(val, 'val') };
}
