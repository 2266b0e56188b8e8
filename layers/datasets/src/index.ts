/** The datasets layer: official files in, task subsets (uint8 NCHW) and epoch orders out. */
export type { DatasetName, ImageSet, TaskData } from './task-data';
export { TorchGenerator } from './torch-generator';
export { subsetIndices, type SubsetIndices } from './subset';
export { EpochShuffler } from './epoch-shuffler';
export { DatasetError, type DatasetErrorCode } from './dataset-error';
export {
  DATASET_NAMES,
  OFFICIAL_CATALOG,
  getDatasetSpec,
  isDatasetName,
  type CifarDatasetSpec,
  type DatasetCatalog,
  type DatasetSpec,
  type IdxDatasetSpec,
  type OfficialFile,
} from './dataset-catalog';
export { DATA_DIR_ENV, datasetFolder, defaultSubsetCacheDir, resolveDataDir } from './data-dir';
export { loadTaskData, type LoadProgress, type LoadTaskDataOptions } from './task-data-loader';
export { fetchDataset, type FetchOptions, type FetchProgress, type FetchResult } from './fetch';
export { verifyDatasets, type DatasetReport, type FileReport, type FileStatus, type VerifyOptions } from './dataset-verifier';
export type { VerificationPolicy, WarningSink } from './verification';
export { allFileNames, findDatasetFolder, findOfficialFile, locateFiles, trainFileNames } from './source-files';
export { howToGetGoodCopy } from './dataset-catalog';
export { userCacheRoot } from './data-dir';
export { temporaryPathFor, writeFileAtomic } from './atomic-file';
export { CIFAR_RECORD_BYTES } from './cifar-binary';
export { CIFAR_PROVENANCE_FILE, readCifarProvenance } from './cifar-provenance';
export { readMaybeGzip } from './compressed-file';
export { verifyContent } from './verification';
