import { withEpoch, type EpochProgress, type StepProgress } from '../../core/src';

/**
 * Writes a running step's progress after each epoch (the training Lambda, into the step's
 * item: StepStatusStore.recordProgress) without holding up the training: at most one write
 * is in flight, and epochs that finish meanwhile go out together in the next one (each
 * write carries the whole bounded progress). A failed write is reported and skipped: progress
 * is a display, never a reason to fail the step.
 */
export class StepProgressWriter {
  private progress: StepProgress | undefined;
  private draining: Promise<void> | null = null;
  private dirty = false;

  constructor(
    private readonly write: (progress: StepProgress) => Promise<unknown>,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Called for every epoch the step finishes (synchronously, by the core's onEpoch). */
  epoch(epoch: EpochProgress): void {
    this.progress = withEpoch(this.progress, epoch);
    this.dirty = true;
    this.draining ??= this.drain();
  }

  /** Resolves once every epoch reported so far is written (or its write failed). */
  async flush(): Promise<void> {
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        try {
          await this.write(this.progress!);
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
