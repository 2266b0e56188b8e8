import type { Trainer, TrainerFactory } from '../../core/src';

/**
 * Trainers of one process that take turns: each call (an epoch, a validation pass, a
 * checkpoint, ...) runs alone, in the order asked, instead of two models' batches
 * interleaving on the same TensorFlow threads.
 *
 * Why: a CNN trains in its own process on every core, so a second concurrent episode there
 * cannot add parallelism, only switches between models. Measured on the 2-core machine
 * (2026-12-02, two medium_fashion trainers, one epoch + validation each, 6 alternating
 * rounds in one process, load 12-15 from other sessions): one after the other 7.6 s wall
 * (median; 4.6 CPU-s), interleaved 8.2 s (4.7 CPU-s); the first finished after 5.5 s on
 * average against 8.1 s interleaved. Turns are per call, so concurrent steps alternate
 * epoch by epoch and neither episode waits for the other's whole step.
 */
export function takingTurns(factory: TrainerFactory): TrainerFactory {
  let last: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
    const result = last.then(run);
    last = result.catch(() => undefined);
    return result;
  };
  return {
    create: async (spec) => new TurnTakingTrainer(await inTurn(() => factory.create(spec)), inTurn),
    restore: async (spec, checkpoint) => new TurnTakingTrainer(await inTurn(() => factory.restore(spec, checkpoint)), inTurn),
  };
}

type InTurn = <T>(run: () => Promise<T>) => Promise<T>;

class TurnTakingTrainer implements Trainer {
  constructor(private readonly trainer: Trainer, private readonly inTurn: InTurn) {}

  buildModel(...args: Parameters<Trainer['buildModel']>) {
    return this.inTurn(() => this.trainer.buildModel(...args));
  }

  applyConfig(...args: Parameters<Trainer['applyConfig']>) {
    return this.inTurn(() => this.trainer.applyConfig(...args));
  }

  setAugmentation(...args: Parameters<Trainer['setAugmentation']>) {
    return this.inTurn(() => this.trainer.setAugmentation(...args));
  }

  trainEpoch(learningRate: number) {
    return this.inTurn(() => this.trainer.trainEpoch(learningRate));
  }

  evaluate() {
    return this.inTurn(() => this.trainer.evaluate());
  }

  keepBestWeights() {
    return this.inTurn(() => this.trainer.keepBestWeights());
  }

  saveCheckpoint() {
    return this.inTurn(() => this.trainer.saveCheckpoint());
  }

  dispose(): void {
    this.trainer.dispose();
  }
}
