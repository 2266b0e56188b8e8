import { DatasetUnavailableError } from '../../core/src';
import { fetchDataset, howToGetGoodCopy, resolveDataDir, type DatasetName, type FetchProgress } from '../../datasets/src';
import { DownloadBackoff, type DownloadBackoffOptions } from './download-backoff';

export interface DatasetDownloadsOptions {
  dataDir?: string;
  /** Replaces the official locations (a mirror, or a test server). */
  baseUrl?: string;
  /** Hears one line per download attempt and per failure (never one per request). */
  onWarning: (message: string) => void;
  onFetchProgress?: (event: FetchProgress) => void;
  backoff?: DownloadBackoffOptions;
}

/**
 * The downloads of datasets that trainers found missing: one at a time per dataset, and
 * after a failure none until the backoff has passed. Meanwhile every caller gets the
 * DatasetUnavailableError at once, saying when the next attempt is.
 */
export class DatasetDownloads {
  private readonly inFlight = new Map<DatasetName, Promise<void>>();
  private readonly lastFailure = new Map<DatasetName, string>();
  private readonly backoff: DownloadBackoff;

  constructor(private readonly options: DatasetDownloadsOptions) {
    this.backoff = new DownloadBackoff(options.backoff);
  }

  /** Resolves once the dataset is on disk; rejects with a DatasetUnavailableError. */
  async fetch(dataset: DatasetName, missing: string): Promise<void> {
    const waiting = this.backoff.waitingUntil(dataset);
    if (waiting !== null) throw this.unavailable(dataset, `could not be downloaded (${this.lastFailure.get(dataset) ?? 'unknown reason'})`, waiting);
    let attempt = this.inFlight.get(dataset);
    if (!attempt) {
      attempt = this.attempt(dataset, missing).finally(() => this.inFlight.delete(dataset));
      this.inFlight.set(dataset, attempt);
    }
    return attempt;
  }

  private async attempt(dataset: DatasetName, missing: string): Promise<void> {
    this.options.onWarning(`${missing}; downloading ${dataset} from its official locations`);
    try {
      await fetchDataset({ dataset, dataDir: this.options.dataDir, baseUrl: this.options.baseUrl, onProgress: this.options.onFetchProgress });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.lastFailure.set(dataset, reason);
      const error = this.unavailable(dataset, `could not be downloaded (${reason})`, this.backoff.failed(dataset));
      this.options.onWarning(error.message);
      throw error;
    }
    this.backoff.succeeded(dataset);
    this.lastFailure.delete(dataset);
  }

  private unavailable(dataset: DatasetName, why: string, nextAttemptAt: Date): DatasetUnavailableError {
    const folder = resolveDataDir(this.options.dataDir);
    return new DatasetUnavailableError(
      `Dataset ${dataset} is not in the data folder ${folder} and ${why}. The next download attempt is at ` +
        `${nextAttemptAt.toISOString()}; until then training on ${dataset} is refused. ${howToGetGoodCopy(dataset)} ` +
        `(The folder needs a ${dataset}/ sub-folder with the official file names.)`,
      { dataset, data_dir: folder, next_attempt_at: nextAttemptAt.toISOString() },
    );
  }
}
