/** The training runtime: trainers over real datasets, in this process or in worker processes on their own thread count. */
export { datasetTrainerFactory, type DatasetTrainerOptions } from './dataset-trainer-factory';
export { intraOpThreadsForTask, pinThreadsForTask, processIntraOpThreads } from './task-threads';
export { defaultWorkerEntry, TrainerWorker, type TrainerWorkerOptions, type WorkerEntry } from './worker-trainer-factory';
