import type { EpochProgress } from '../layers/core/src';

/** Prints one progress line per trained epoch to a stream (stderr). */
export function epochProgressPrinter(stream: NodeJS.WritableStream): (p: EpochProgress) => void {
  return (p) => {
    const val = p.val_accuracy === null ? 'diverged' : `val_loss ${p.val_loss!.toFixed(4)} val_acc ${p.val_accuracy.toFixed(4)}`;
    stream.write(
      `  epoch ${p.index}/${p.total} (model epoch ${p.epoch})  lr ${p.learning_rate.toPrecision(3)}  ` +
        `loss ${Number.isFinite(p.train_loss) ? p.train_loss.toFixed(4) : String(p.train_loss)} acc ${p.train_accuracy.toFixed(4)}  ${val}  ${p.seconds.toFixed(2)}s\n`,
    );
  };
}
