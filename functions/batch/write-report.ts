import type { Context } from 'aws-lambda';
import {
  itemsOf,
  Observability,
  parseEvent,
  reportSettingsFromEnv,
  sweepRunCheckpoints,
  traceStorage,
  writeReport,
  writeReportEventSchema,
  type WriteReportResult,
} from '../../layers/cloud/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * Batch run, step 3 (`{"run_id", "started_at", "found", "graded"}`: find-episodes' answer and
 * the distributed map's output): streams the map's result files into the JSON report and the
 * self-contained HTML leaderboards (layers/reports: per task, the top of the ranking, the
 * score distribution and the baseline agent's score) in REPORTS_BUCKET under REPORTS_PREFIX,
 * then records the window's end as the next run's `since` and answers whether the run must
 * continue. Baselines from BASELINE_SCORES; costs come priced in the entries (grade-batch).
 * Then it sweeps orphan checkpoints (sweepRunCheckpoints: a bounded share of the bucket per
 * run); a failed sweep is logged and leaves the run successful (the next run tries again).
 */
export interface WriteReportHandlerDeps {
  storage: Storage;
  env?: NodeJS.ProcessEnv;
  clock?: () => Date;
  /** The sweep's real clock (S3's LastModified); default Date.now. */
  now?: () => number;
}

export type WriteReportHandler = (event: unknown, context?: Context) => Promise<WriteReportResult | null>;

export function createWriteReportHandler(deps: WriteReportHandlerDeps | ((obs: Observability) => WriteReportHandlerDeps)): WriteReportHandler {
  const obs = new Observability('ml-trainer-batch');
  let resolved: WriteReportHandlerDeps | undefined;
  return (event: unknown, context?: Context) =>
    obs.invocation('write-report', context, async () => {
      if (!resolved) {
        resolved = typeof deps === 'function' ? deps(obs) : deps;
        traceStorage(resolved.storage, obs);
      }
      const { storage, clock, now } = resolved;
      const input = parseEvent(writeReportEventSchema, event);
      const items = itemsOf(storage, clock);
      let skipped = 0;
      const result = await writeReport(
        {
          reports: storage.reports,
          items,
          ...reportSettingsFromEnv(resolved.env ?? process.env),
          ...(clock ? { clock } : {}),
          onSkipped: (line) => {
            if (skipped++ < 5) obs.logger.warn('a result line that is no report entry was left out', { line: line.slice(0, 300) });
          },
        },
        input,
      );
      if (result === null) return null;
      for (const [status, n] of Object.entries(result.counts)) obs.count(`Report_${status}`, n);
      obs.logger.info('report written', { ...result, skipped_lines: skipped, bucket: storage.reports.bucket });
      try {
        const swept = await sweepRunCheckpoints({ episodes: storage.episodes, checkpoints: storage.checkpoints, items, ...(now ? { now } : {}) });
        obs.count('CheckpointsSwept', swept.deleted.length);
        obs.logger.info('orphan checkpoints swept', { examined: swept.examined, deleted: swept.deleted.length, keys: swept.deleted.slice(0, 50), complete: swept.cursor === null });
      } catch (error) {
        obs.logger.error('the orphan-checkpoint sweep failed; the next run continues it', { error: String(error) });
      }
      return result;
    });
}

let configured: WriteReportHandler | undefined;

export async function handler(event: unknown, context: Context): Promise<WriteReportResult | null> {
  configured ??= createWriteReportHandler(() => ({ storage: createStorageFromEnv(process.env) }));
  return configured(event, context);
}
