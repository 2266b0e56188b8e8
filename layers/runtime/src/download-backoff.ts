/** How long a dataset download waits after failures: the first delay, doubling up to the cap. */
export interface DownloadBackoffOptions {
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Now, in milliseconds; default Date.now. */
  now?: () => number;
}

export const FIRST_DOWNLOAD_RETRY_MS = 30_000;
export const MAX_DOWNLOAD_RETRY_MS = 10 * 60_000;

interface Failures {
  count: number;
  nextAttemptAt: number;
}

/**
 * Per dataset, when the next download may be tried. A server whose dataset cannot be
 * downloaded (offline, a dead mirror) would otherwise try again for every request.
 */
export class DownloadBackoff {
  private readonly failures = new Map<string, Failures>();
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;

  constructor(options: DownloadBackoffOptions = {}) {
    this.firstDelayMs = options.firstDelayMs ?? FIRST_DOWNLOAD_RETRY_MS;
    this.maxDelayMs = options.maxDelayMs ?? MAX_DOWNLOAD_RETRY_MS;
    this.now = options.now ?? Date.now;
  }

  /** When the next attempt is allowed, or null when it is allowed now. */
  waitingUntil(dataset: string): Date | null {
    const failures = this.failures.get(dataset);
    return failures && failures.nextAttemptAt > this.now() ? new Date(failures.nextAttemptAt) : null;
  }

  /** Notes a failed attempt; returns when the next one is allowed. */
  failed(dataset: string): Date {
    const count = (this.failures.get(dataset)?.count ?? 0) + 1;
    const delay = Math.min(this.maxDelayMs, this.firstDelayMs * 2 ** (count - 1));
    const nextAttemptAt = this.now() + delay;
    this.failures.set(dataset, { count, nextAttemptAt });
    return new Date(nextAttemptAt);
  }

  succeeded(dataset: string): void {
    this.failures.delete(dataset);
  }
}
