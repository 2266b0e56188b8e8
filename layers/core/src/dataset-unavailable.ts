/**
 * A trainer could not be built because its task's dataset is not available: not on disk and
 * not downloadable now. It is part of the Trainer port's contract (the runtime throws it, the
 * interfaces answer it as `dataset_unavailable`), so it lives here, below both. It is not a
 * CoreError: the step did not happen and costs the agent nothing; retrying later may work.
 */
export class DatasetUnavailableError extends Error {
  override readonly name = 'DatasetUnavailableError';
  readonly code = 'dataset_unavailable';

  constructor(
    message: string,
    readonly detail: {
      dataset: string;
      /** The data folder the server looks in. */
      data_dir: string;
      /** When the next download attempt may happen; null when none will happen by itself. */
      next_attempt_at: string | null;
    },
  ) {
    super(message);
  }
}
