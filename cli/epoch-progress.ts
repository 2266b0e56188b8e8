import type { EpochProgress } from '../layers/core/src';

/**
 * Prints one progress line per trained epoch to a stream (stderr), within 80 columns:
 * "  epoch 7 (1/20)  lr 0.00100  loss 0.226/0.596  acc 0.916/0.780  0.02s": the model's epoch
 * (the step line's "epoch 7/100", eval's progress "epoch 7 (1/20)"), this call's count (bench
 * parses "(1/"), then loss and accuracy as train/val.
 */
export function epochProgressPrinter(stream: NodeJS.WritableStream): (p: EpochProgress) => void {
  return (p) => stream.write(`${describeEpoch(p)}\n`);
}

export function describeEpoch(p: EpochProgress): string {
  const trainLoss = Number.isFinite(p.train_loss) ? p.train_loss.toFixed(3) : String(p.train_loss);
  const val =
    p.val_accuracy === null
      ? `loss ${trainLoss}  diverged`
      : `loss ${trainLoss}/${p.val_loss!.toFixed(3)}  acc ${p.train_accuracy.toFixed(3)}/${p.val_accuracy.toFixed(3)}`;
  return `  epoch ${p.epoch} (${p.index}/${p.total})  lr ${p.learning_rate.toPrecision(3)}  ${val}  ${p.seconds.toFixed(2)}s`;
}
