import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetUnavailableError, type EvalPassMetrics, type Trainer, type TrainerFactory, type TrainerSpec, type TrainPassMetrics } from '../../core/src';
import { CheckpointError } from '../../training/src/without-tensorflow';
import { DatasetError } from '../../datasets/src';
import {
  WORKER_OPTIONS_ENV, type TrainerMethod, type WorkerDatasetOptions, type WorkerError, type WorkerMessage, type WorkerRequest,
} from './trainer-worker-protocol';

export interface WorkerEntry {
  file: string;
  execArgv: string[];
}

export interface TrainerWorkerOptions {
  /** TensorFlow intra-op threads of the worker process. */
  threads: number;
  dataset: WorkerDatasetOptions;
  onWarning: (message: string) => void;
  onProgress?: (event: never) => void;
  onFetchProgress?: (event: never) => void;
  env?: NodeJS.ProcessEnv;
  entry?: WorkerEntry;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * Trainers in a child process whose TensorFlow runs with another intra-op thread count
 * than this one's (TensorFlow fixes the count per process, when it loads). Started on
 * first use and kept; when it exits, the calls in flight fail and the next trainer starts
 * a new one. The parent's event loop is held only while a call is in flight.
 */
export class TrainerWorker implements TrainerFactory {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Counts started children, so a trainer of an exited worker can tell. */
  private generation = 0;
  /** The live trainers of the current child, and trainers being created or restored in it (a pool balances on them). */
  private readonly live = new Set<number>();
  private starting = 0;

  constructor(private readonly options: TrainerWorkerOptions) {}

  get threads(): number {
    return this.options.threads;
  }

  /** Live trainers plus those being created: what a TrainerWorkerPool balances on. */
  get load(): number {
    return this.live.size + this.starting;
  }

  create(spec: TrainerSpec): Promise<Trainer> {
    return this.adopt({ id: 0, kind: 'create', spec });
  }

  restore(spec: TrainerSpec, checkpoint: Uint8Array): Promise<Trainer> {
    return this.adopt({ id: 0, kind: 'restore', spec, checkpoint });
  }

  private async adopt(request: WorkerRequest & { id: number; kind: 'create' | 'restore' }): Promise<Trainer> {
    this.starting++;
    try {
      const id = (await this.request(request)) as number;
      this.live.add(id);
      return new WorkerTrainer(this, id, this.generation);
    } finally {
      this.starting--;
    }
  }

  call(trainer: number, generation: number, method: TrainerMethod, args: unknown[]): Promise<unknown> {
    if (generation !== this.generation || !this.child) {
      return Promise.reject(new Error(`this trainer's worker process (${this.describe()}) has exited; its model is gone`));
    }
    return this.request({ id: 0, kind: 'call', trainer, method, args });
  }

  disposeTrainer(trainer: number, generation: number): void {
    if (generation !== this.generation) return;
    this.live.delete(trainer);
    if (this.child?.connected) this.child.send({ kind: 'dispose', trainer } satisfies WorkerRequest);
  }

  /** Stops the worker; calls in flight fail. */
  close(): void {
    this.child?.kill();
  }

  private request(request: WorkerRequest & { id: number }): Promise<unknown> {
    const child = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.channel?.ref();
      child.send({ ...request, id }, (error) => {
        if (error) this.settle(id, () => reject(new Error(`could not reach the trainer worker (${this.describe()}): ${error.message}`)));
      });
    });
  }

  private started(): ChildProcess {
    if (this.child) return this.child;
    const entry = this.options.entry ?? defaultWorkerEntry();
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      env: {
        ...(this.options.env ?? process.env),
        TF_NUM_INTRAOP_THREADS: String(this.options.threads),
        [WORKER_OPTIONS_ENV]: JSON.stringify(this.options.dataset),
      },
      // stdout stays clean for the parent's own output (--json); TensorFlow logs to stderr.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child = child;
    this.generation++;
    child.unref();
    child.channel?.unref();
    child.on('message', (message: WorkerMessage) => this.receive(message));
    child.on('error', (error) => this.failAll(child, `the trainer worker (${this.describe()}) failed: ${error.message}`));
    child.on('exit', (code, signal) => this.failAll(child, `the trainer worker (${this.describe()}) exited (${signal ?? `code ${code}`})`));
    return child;
  }

  private receive(message: WorkerMessage): void {
    switch (message.kind) {
      case 'reply':
        this.settle(message.id, (p) => (message.ok ? p.resolve(message.value) : p.reject(fromWorkerError(message.error))));
        return;
      case 'warning':
        this.options.onWarning(message.message);
        return;
      case 'progress':
        this.options.onProgress?.(message.event as never);
        return;
      case 'fetch-progress':
        this.options.onFetchProgress?.(message.event as never);
        return;
    }
  }

  private settle(id: number, done: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.child?.channel?.unref();
    done(p);
  }

  private failAll(child: ChildProcess, message: string): void {
    if (this.child !== child) return;
    this.child = null;
    // Its trainers are gone with it (their calls fail by generation), so they weigh nothing.
    this.live.clear();
    const calls = [...this.pending.values()];
    this.pending.clear();
    calls.forEach((p) => p.reject(new Error(message)));
  }

  private describe(): string {
    return `${this.options.threads} intra-op thread${this.options.threads === 1 ? '' : 's'}`;
  }
}

/** A Trainer whose model lives in a TrainerWorker. */
class WorkerTrainer implements Trainer {
  private disposed = false;

  constructor(private readonly worker: TrainerWorker, private readonly id: number, private readonly generation: number) {}

  buildModel(...args: Parameters<Trainer['buildModel']>): Promise<void> {
    return this.call('buildModel', args) as Promise<void>;
  }

  applyConfig(...args: Parameters<Trainer['applyConfig']>): Promise<void> {
    return this.call('applyConfig', args) as Promise<void>;
  }

  setAugmentation(...args: Parameters<Trainer['setAugmentation']>): Promise<void> {
    return this.call('setAugmentation', args) as Promise<void>;
  }

  trainEpoch(learningRate: number): Promise<TrainPassMetrics> {
    return this.call('trainEpoch', [learningRate]) as Promise<TrainPassMetrics>;
  }

  evaluate(): Promise<EvalPassMetrics> {
    return this.call('evaluate', []) as Promise<EvalPassMetrics>;
  }

  keepBestWeights(): Promise<void> {
    return this.call('keepBestWeights', []) as Promise<void>;
  }

  saveCheckpoint(): Promise<Uint8Array> {
    return this.call('saveCheckpoint', []) as Promise<Uint8Array>;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.worker.disposeTrainer(this.id, this.generation);
  }

  private call(method: TrainerMethod, args: unknown[]): Promise<unknown> {
    if (this.disposed) return Promise.reject(new Error('this trainer has been disposed'));
    return this.worker.call(this.id, this.generation, method, args);
  }
}

/** Rebuilds the error types callers tell apart (checkpoint and dataset errors keep their codes, an unavailable dataset its detail). */
export function fromWorkerError(e: WorkerError): Error {
  if (e.name === 'CheckpointError' && e.code) return new CheckpointError(e.code as CheckpointError['code'], e.message);
  if (e.name === 'DatasetError' && e.code) return new DatasetError(e.code as DatasetError['code'], e.message, e.file);
  if (e.name === 'DatasetUnavailableError' && e.detail) return new DatasetUnavailableError(e.message, e.detail as DatasetUnavailableError['detail']);
  const error = e.name === 'RangeError' ? new RangeError(e.message) : e.name === 'TypeError' ? new TypeError(e.message) : new Error(e.message);
  if (error.name !== e.name) error.name = e.name;
  return error;
}

/**
 * trainer-worker.js beside this file when it runs bundled (the CLI's dist/, the training
 * Lambda's task root), else the TypeScript entry through tsx (development and tests).
 */
export function defaultWorkerEntry(dir = __dirname): WorkerEntry {
  const bundled = join(dir, 'trainer-worker.js');
  if (existsSync(bundled)) return { file: bundled, execArgv: [] };
  const source = join(dir, 'trainer-worker-main.ts');
  if (existsSync(source)) return { file: source, execArgv: ['--import', 'tsx'] };
  throw new Error(`no trainer worker entry: neither ${bundled} nor ${source} exists`);
}
