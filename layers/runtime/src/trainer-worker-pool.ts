import type { Trainer, TrainerFactory, TrainerSpec } from '../../core/src';
import { TrainerWorker, type TrainerWorkerOptions } from './worker-trainer-factory';

export interface TrainerWorkerPoolOptions extends TrainerWorkerOptions {
  /** How many worker processes at most (each on `threads` intra-op threads). */
  size: number;
}

/**
 * Up to `size` TrainerWorkers on the same thread count, so that trainers of concurrent
 * episodes train on separate cores. A new (or restored) trainer goes to the worker with the
 * fewest live trainers; a worker process starts only when every started one is busy. Each
 * worker keeps TrainerWorker's exit semantics: only its own trainers' calls fail.
 */
export class TrainerWorkerPool implements TrainerFactory {
  private readonly workers: TrainerWorker[] = [];

  constructor(private readonly options: TrainerWorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`a trainer worker pool needs a whole number of workers ≥ 1, got ${options.size}`);
  }

  get size(): number {
    return this.options.size;
  }

  /** Live trainers (and trainers being created) per started worker, in start order. */
  get loads(): number[] {
    return this.workers.map((w) => w.load);
  }

  create(spec: TrainerSpec): Promise<Trainer> {
    return this.leastLoaded().create(spec);
  }

  restore(spec: TrainerSpec, checkpoint: Uint8Array): Promise<Trainer> {
    return this.leastLoaded().restore(spec, checkpoint);
  }

  /** Stops every worker; calls in flight fail. */
  close(): void {
    this.workers.forEach((w) => w.close());
  }

  private leastLoaded(): TrainerWorker {
    const idle = this.workers.find((w) => w.load === 0);
    if (idle) return idle;
    if (this.workers.length < this.options.size) {
      const { size: _size, ...workerOptions } = this.options;
      const worker = new TrainerWorker(workerOptions);
      this.workers.push(worker);
      return worker;
    }
    return this.workers.reduce((best, w) => (w.load < best.load ? w : best));
  }
}
