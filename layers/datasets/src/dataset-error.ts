/**
 * What kind of dataset problem an error reports, so callers (the CLI, the engine) can
 * react without parsing messages.
 * - `missing_file`: an official file is not where it was looked for.
 * - `corrupt_file`: a file is not in the expected format (bad magic, wrong dims, truncated, ...).
 * - `checksum_mismatch`: a well-formed file whose content is not the official one.
 * - `unverified`: a file that cannot be checked against an official checksum.
 * - `download_failed`: a fetch failed (network, HTTP status, or a bad download).
 * - `invalid_request`: the caller asked for something impossible (bad indices, bad sizes).
 */
export type DatasetErrorCode =
  | 'missing_file'
  | 'corrupt_file'
  | 'checksum_mismatch'
  | 'unverified'
  | 'download_failed'
  | 'invalid_request';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';

  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    /** The file the error is about, when there is one. */
    readonly file?: string,
  ) {
    super(message);
  }
}
