import type { Trainer, TrainerFactory } from '../../../layers/core/src';

export interface EpochMetrics {
  train_loss: number;
  train_acc: number;
  val_loss: number;
  val_acc: number;
}

/**
 * A trainer that replays recorded per-epoch metrics, whatever the configuration: it
 * tests a policy's stopping rules on curves shaped like real ones (noisy accuracies, a
 * gap that opens). A fresh model starts the recording over.
 */
export function replayTrainerFactory(history: EpochMetrics[]): TrainerFactory {
  const make = (): Trainer => {
    let epoch = 0;
    const at = (i: number) => history[Math.min(i, history.length - 1)];
    return {
      async buildModel() {
        epoch = 0;
      },
      async applyConfig() {},
      async setAugmentation() {},
      async trainEpoch() {
        const h = at(epoch);
        return { loss: h.train_loss, accuracy: h.train_acc, seconds: 0 };
      },
      async evaluate() {
        const h = at(epoch++);
        return { loss: h.val_loss, accuracy: h.val_acc, seconds: 0 };
      },
      async keepBestWeights() {},
      async saveCheckpoint() {
        return new Uint8Array();
      },
      dispose() {},
    };
  };
  return {
    async create() {
      return make();
    },
    async restore() {
      return make();
    },
  };
}

/** Rows of [train_acc, val_acc, val_loss] with a falling train loss. */
export function curve(rows: [number, number, number][]): EpochMetrics[] {
  return rows.map(([train_acc, val_acc, val_loss], i) => ({ train_acc, val_acc, val_loss, train_loss: 1 / (i + 2) }));
}
