import { DATASET_NAMES, findDatasetFolder, findOfficialFile, getDatasetSpec, resolveDataDir, trainFileNames, type DatasetName } from '../../datasets/src';

export interface DatasetPresence {
  dataset: DatasetName;
  /** Every file of the training split is in the folder (not yet verified: loading checks the checksums). */
  present: boolean;
  folder: string;
}

/** The data folder trainers read (explicit, else ML_TRAINER_DATA_DIR, else the user cache) and which datasets it holds. */
export function datasetPresence(dataDir?: string, env: NodeJS.ProcessEnv = process.env): { dataDir: string; datasets: DatasetPresence[] } {
  const resolved = resolveDataDir(dataDir, env);
  const datasets = DATASET_NAMES.map((dataset) => {
    const spec = getDatasetSpec(dataset);
    const folder = findDatasetFolder(resolved, spec);
    return { dataset, folder, present: trainFileNames(spec).every((name) => findOfficialFile(folder, name) !== undefined) };
  });
  return { dataDir: resolved, datasets };
}
