import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DatasetName } from './task-data';

/** The environment variable that points at a directory of datasets. */
export const DATA_DIR_ENV = 'ML_TRAINER_DATA_DIR';

/** The per-user cache root: `$XDG_CACHE_HOME/ml-trainer`, else `~/.cache/ml-trainer`. */
export function userCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && xdg.trim() !== '') return resolve(xdg, 'ml-trainer');
  return join(homedir(), '.cache', 'ml-trainer');
}

/**
 * Where datasets live: the explicit directory, else `$ML_TRAINER_DATA_DIR`, else
 * `<user cache root>/datasets`. It holds one sub-folder per dataset (see `datasetFolder`).
 */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit.trim() !== '') return resolve(explicit);
  const fromEnv = env[DATA_DIR_ENV];
  if (fromEnv && fromEnv.trim() !== '') return resolve(fromEnv);
  return join(userCacheRoot(env), 'datasets');
}

/** Where decoded task subsets are cached unless the caller names a directory. */
export function defaultSubsetCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(userCacheRoot(env), 'subsets');
}

/** The sub-folder of the data directory that `fetch` writes a dataset into. */
export function datasetFolder(dataDir: string, dataset: DatasetName): string {
  return join(dataDir, dataset);
}

/**
 * Folders searched for a dataset's files, first match wins. Besides `<dataset>/`:
 * CIFAR-10 also in `cifar10/cifar-10-batches-bin/` (the official archive unpacked by hand)
 * and in `cifar10_jpeg/` (the lossy development stand-in, which can never be verified).
 */
export function datasetFolderCandidates(dataDir: string, dataset: DatasetName): string[] {
  const main = datasetFolder(dataDir, dataset);
  if (dataset !== 'cifar10') return [main];
  return [main, join(main, 'cifar-10-batches-bin'), join(dataDir, 'cifar10_jpeg')];
}
