import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { datasetFolder, datasetFolderCandidates } from './data-dir';
import { DatasetError } from './dataset-error';
import { DatasetSpec, howToGetGoodCopy } from './dataset-catalog';

/** An official file found on disk: its official name (without `.gz`) and where it is. */
export interface SourceFile {
  officialName: string;
  path: string;
}

/** The names a file may have on disk: as published, or gzip-compressed. Plain wins when both exist. */
function namesOnDisk(officialName: string): string[] {
  return [officialName, `${officialName}.gz`];
}

export function findOfficialFile(folder: string, officialName: string): string | undefined {
  return namesOnDisk(officialName)
    .map((name) => join(folder, name))
    .find((path) => existsSync(path));
}

/** The names of the files that hold the official training split, in the order they are read. */
export function trainFileNames(spec: DatasetSpec): string[] {
  if (spec.format === 'idx') return [spec.files.trainImages.name, spec.files.trainLabels.name];
  return [...spec.trainBatches];
}

/** Every official data file of a dataset (training and test). */
export function allFileNames(spec: DatasetSpec): string[] {
  if (spec.format === 'idx') return Object.values(spec.files).map((file) => file.name);
  return [...spec.trainBatches, spec.testBatch];
}

/**
 * The folder that holds a dataset: the first candidate folder (see `datasetFolderCandidates`)
 * containing the dataset's first training file, or `<dataDir>/<dataset>` when none does.
 */
export function findDatasetFolder(dataDir: string, spec: DatasetSpec): string {
  const probe = trainFileNames(spec)[0];
  const folders = datasetFolderCandidates(dataDir, spec.name);
  return folders.find((folder) => findOfficialFile(folder, probe) !== undefined) ?? datasetFolder(dataDir, spec.name);
}

/** Locates the given official files in the dataset's folder; a missing one is an error that says where it looked. */
export function locateFiles(dataDir: string, spec: DatasetSpec, names: readonly string[]): SourceFile[] {
  const folder = findDatasetFolder(dataDir, spec);
  return names.map((officialName) => {
    const path = findOfficialFile(folder, officialName);
    if (path === undefined) throw missingFile(folder, officialName, spec);
    return { officialName, path };
  });
}

function missingFile(folder: string, officialName: string, spec: DatasetSpec): DatasetError {
  const wanted = join(folder, officialName);
  return new DatasetError(
    'missing_file',
    `${spec.name}: missing file ${wanted} (or ${wanted}.gz). ${howToGetGoodCopy(spec.name)}`,
    wanted,
  );
}
