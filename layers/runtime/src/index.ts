/** The training runtime: trainers over real datasets, in this process or in a pool of worker processes on their own thread count. */
export { datasetTrainerFactory, type DatasetTrainerOptions } from './dataset-trainer-factory';
export { intraOpThreadsForTask, pinThreadsForTask, processIntraOpThreads } from './task-threads';
export { defaultWorkerEntry, TrainerWorker, type TrainerWorkerOptions, type WorkerEntry } from './worker-trainer-factory';
export { DatasetDownloads, type DatasetDownloadsOptions } from './dataset-downloads';
export { DownloadBackoff, type DownloadBackoffOptions, FIRST_DOWNLOAD_RETRY_MS, MAX_DOWNLOAD_RETRY_MS } from './download-backoff';
export { datasetPresence, type DatasetPresence } from './dataset-presence';
export { TrainerWorkerPool, type TrainerWorkerPoolOptions } from './trainer-worker-pool';
export { MAX_TRAINER_WORKERS, trainerWorkerCount, type TrainerWorkers, type WorkerCountInput, WORKERS_ENV } from './worker-count';
