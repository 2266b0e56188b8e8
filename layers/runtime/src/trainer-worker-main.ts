/**
 * Entry of a trainer worker process (see worker-trainer-factory.ts): dataset trainers on
 * this process's TensorFlow thread count, served over the IPC channel to the parent.
 * Bundled as trainer-worker.js beside the CLI and the training Lambda's handler.
 */
import { datasetTrainerFactory } from './dataset-trainer-factory';
import { serveTrainers } from './trainer-worker';
import { WORKER_OPTIONS_ENV, type WorkerDatasetOptions, type WorkerMessage } from './trainer-worker-protocol';

function main(): void {
  if (!process.send) throw new Error('a trainer worker runs as a child process with an IPC channel (child_process.fork)');
  const send = (message: WorkerMessage) => process.send!(message);
  const options = JSON.parse(process.env[WORKER_OPTIONS_ENV] ?? '{}') as WorkerDatasetOptions;
  const factory = datasetTrainerFactory({
    ...options,
    inProcessOnly: true,
    onWarning: (message) => send({ kind: 'warning', message }),
    onProgress: (event) => send({ kind: 'progress', event }),
    onFetchProgress: (event) => send({ kind: 'fetch-progress', event }),
  });
  serveTrainers(factory, { send, on: (event, listener) => process.on(event, listener as (m: unknown) => void) });
  // The parent went away: nothing more will ask for training.
  process.on('disconnect', () => process.exit(0));
}

main();
