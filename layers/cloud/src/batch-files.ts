/**
 * Where a batch run keeps its working files in the reports bucket (the CDK app's distributed
 * map writes its results under BATCH_RESULTS_PREFIX; the bucket's lifecycle rule expires
 * everything under BATCH_RUNS_PREFIX). The reports themselves live under REPORTS_PREFIX.
 */
export const BATCH_RUNS_PREFIX = 'batch-runs/';

/** The distributed map's ResultWriter prefix: `<prefix><map run id>/manifest.json` and its result files. */
export const BATCH_RESULTS_PREFIX = `${BATCH_RUNS_PREFIX}results/`;

/** Days the working files are kept (the reports bucket's lifecycle rule): long enough to look into a run. */
export const BATCH_RUN_FILES_DAYS = 14;

/** A run id as one path segment: what S3 keys and report paths may hold. */
export function safeSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 128);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'run' : cleaned;
}

/** The JSON-lines list of the episodes a run grades (find-episodes writes it; the map reads it). */
export function batchRunManifestKey(runId: string): string {
  return `${BATCH_RUNS_PREFIX}${safeSegment(runId)}/episodes.jsonl`;
}
