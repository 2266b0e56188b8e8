import type { TrainerSpec } from '../../core/src';

/** The Trainer methods a worker runs, with their arguments. */
export type TrainerMethod = 'buildModel' | 'applyConfig' | 'setAugmentation' | 'trainEpoch' | 'evaluate' | 'keepBestWeights' | 'saveCheckpoint';

/** Parent → worker. `id` pairs a request with its reply; dispose has none. */
export type WorkerRequest =
  | { id: number; kind: 'create'; spec: TrainerSpec }
  | { id: number; kind: 'restore'; spec: TrainerSpec; checkpoint: Uint8Array }
  | { id: number; kind: 'call'; trainer: number; method: TrainerMethod; args: unknown[] }
  | { kind: 'dispose'; trainer: number };

/** An error as it crosses the process boundary: enough to rebuild the typed errors callers test for. */
export interface WorkerError {
  name: string;
  message: string;
  code?: string;
  file?: string;
  /** A DatasetUnavailableError's detail. */
  detail?: Record<string, unknown>;
}

/** Worker → parent: replies, and the dataset loader's warnings and progress. */
export type WorkerMessage =
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: WorkerError }
  | { kind: 'warning'; message: string }
  | { kind: 'progress'; event: unknown }
  | { kind: 'fetch-progress'; event: unknown };

export const WORKER_METHODS: readonly TrainerMethod[] = [
  'buildModel', 'applyConfig', 'setAugmentation', 'trainEpoch', 'evaluate', 'keepBestWeights', 'saveCheckpoint',
];

/** Dataset options a worker needs to load data the way its parent would (sent as JSON in its environment). */
export interface WorkerDatasetOptions {
  dataDir?: string;
  allowUnverified: boolean;
  autoFetch: boolean;
  fetchBaseUrl?: string;
}

export const WORKER_OPTIONS_ENV = 'ML_TRAINER_WORKER_OPTIONS';
