import type { TrainerFactory, TrainerSpec } from '../../core/src';
import { LazyTrainer } from '../../episodes/src';

export interface LazyTrainerOptions {
  /** The real factory, loaded on first need (the training handler imports tfjs-node here, not at cold start). */
  load: () => Promise<TrainerFactory>;
  /** Runs once per trainer before its first pass over the data (the training handler syncs the dataset from S3). */
  beforeData?: (spec: TrainerSpec) => Promise<void>;
}

export interface LazyTrainerFactory extends TrainerFactory {
  /** How many trainers were actually built or restored (0: no step needed the real trainer). */
  readonly materialised: number;
}

/**
 * A TrainerFactory whose trainers are the episodes layer's LazyTrainer (built on first use)
 * over a real factory that is itself loaded on first use: a step that never trains loads
 * nothing of tfjs, and a restored trainer that is only saved answers the checkpoint it was
 * restored from, byte for byte (so the service sees an unchanged checkpoint and uploads nothing).
 */
export function lazyTrainerFactory(options: LazyTrainerOptions): LazyTrainerFactory {
  let factory: Promise<TrainerFactory> | undefined;
  let materialised = 0;
  const real = (): Promise<TrainerFactory> => {
    factory ??= options.load().catch((error: unknown) => {
      factory = undefined;
      throw error;
    });
    return factory;
  };
  const make = (spec: TrainerSpec, checkpoint: Uint8Array | null): LazyTrainer =>
    new LazyTrainer({
      build: async () => {
        const f = await real();
        materialised += 1;
        return checkpoint === null ? f.create(spec) : f.restore(spec, checkpoint);
      },
      ...(options.beforeData ? { beforeData: () => options.beforeData!(spec) } : {}),
      ...(checkpoint === null ? {} : { restoredFrom: checkpoint }),
    });
  return {
    get materialised() {
      return materialised;
    },
    async create(spec) {
      return make(spec, null);
    },
    async restore(spec, checkpoint) {
      return make(spec, checkpoint);
    },
  };
}
