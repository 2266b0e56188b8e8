import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { BlobStore } from '../../storage/src';
import type { ReportEntry } from './leaderboard';

/**
 * The distributed map's results as write-report reads them: the ResultWriter's manifest
 * (`<prefix><map run id>/manifest.json`) names the result files; successful children's
 * outputs are flattened into one JSON line per episode (FLATTEN, JSONL), and a failed or
 * never-run child is written unchanged as its execution record (its Input holds the batch).
 * Read line by line: memory does not grow with the number of episodes.
 */

/** The map state's output with a ResultWriter (`$.graded`); `{}` when the run skipped the map. */
export const mapResultSchema = z
  .object({
    ResultWriterDetails: z.object({ Bucket: z.string().max(63), Key: z.string().min(1).max(1024) }, { error: 'an object with Bucket and Key' }).optional(),
  })
  .nullish();

export type MapResult = z.output<typeof mapResultSchema>;

const resultFileSchema = z.object({ Key: z.string().min(1).max(1024) });

const manifestSchema = z.object({
  ResultFiles: z.object({
    SUCCEEDED: z.array(resultFileSchema).default([]),
    FAILED: z.array(resultFileSchema).default([]),
    PENDING: z.array(resultFileSchema).default([]),
  }),
});

/** A child execution's record (failed, pending, or written unchanged). */
const executionRecordSchema = z.looseObject({
  ExecutionArn: z.string().optional(),
  Status: z.string(),
  Input: z.string().optional(),
  Output: z.string().optional(),
  Error: z.string().optional(),
  Cause: z.string().optional(),
});

const batchInputSchema = z.object({ Items: z.array(z.looseObject({ tenant: z.string(), episode_id: z.string() })) });

const entrySchema = z.looseObject({ tenant: z.string(), episode_id: z.string(), status: z.string() });

export class BatchResultsError extends Error {
  override readonly name = 'BatchResultsError';
}

/** Every report entry of a map run, in the files' order; lines that are neither an entry nor an execution record are counted, not reported. */
export async function* mapRunEntries(reports: BlobStore, result: MapResult, onSkipped: (line: string) => void = () => undefined): AsyncGenerator<ReportEntry> {
  const details = result?.ResultWriterDetails;
  if (!details) return;
  if (details.Bucket !== reports.bucket) throw new BatchResultsError(`The map's results are in bucket ${details.Bucket}, not in the reports bucket ${reports.bucket}: the ResultWriter must write to the reports bucket.`);
  const manifest = await reports.get(details.Key);
  if (manifest === null) throw new BatchResultsError(`The map's result manifest ${details.Key} is missing from ${reports.bucket}.`);
  const files = manifestFiles(manifest, details.Key);
  for (const file of [...files.SUCCEEDED, ...files.FAILED, ...files.PENDING]) {
    for await (const line of lines(reports, file.Key)) yield* entriesOfLine(line, onSkipped);
  }
}

/** The manifest's result files; a manifest that is not the ResultWriter's JSON is an error naming what is wrong with it. */
function manifestFiles(manifest: Uint8Array, key: string): z.output<typeof manifestSchema>['ResultFiles'] {
  const parsed = manifestSchema.safeParse(parseJson(Buffer.from(manifest).toString('utf8')));
  if (!parsed.success) {
    throw new BatchResultsError(
      `The map's result manifest ${key} is not a ResultWriter manifest ({"ResultFiles": {"SUCCEEDED"|"FAILED"|"PENDING": [{"Key": ...}]}}): ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data.ResultFiles;
}

async function* lines(reports: BlobStore, key: string): AsyncGenerator<string> {
  const stream = await reports.getStream(key);
  if (stream === null) throw new BatchResultsError(`The result file ${key} named by the map's manifest is missing.`);
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) if (line.trim() !== '') yield line;
}

function* entriesOfLine(line: string, onSkipped: (line: string) => void): Generator<ReportEntry> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    onSkipped(line);
    return;
  }
  const record = executionRecordSchema.safeParse(value);
  if (record.success && record.data.ExecutionArn !== undefined) {
    yield* entriesOfExecution(record.data, onSkipped);
    return;
  }
  const entry = entrySchema.safeParse(value);
  if (entry.success) yield entry.data as unknown as ReportEntry;
  else onSkipped(line);
}

/** A succeeded child's output entries; each episode of a failed or pending child's batch as an error entry. */
function* entriesOfExecution(record: z.output<typeof executionRecordSchema>, onSkipped: (line: string) => void): Generator<ReportEntry> {
  if (record.Status === 'SUCCEEDED' && record.Output !== undefined) {
    const output = parseJson(record.Output);
    for (const item of Array.isArray(output) ? output : [output]) {
      const entry = entrySchema.safeParse(item);
      if (entry.success) yield entry.data as unknown as ReportEntry;
      else onSkipped(JSON.stringify(item));
    }
    return;
  }
  const batch = batchInputSchema.safeParse(parseJson(record.Input ?? 'null'));
  if (!batch.success) {
    onSkipped(JSON.stringify(record).slice(0, 1000));
    return;
  }
  const error = `${record.Error ?? record.Status}${record.Cause ? `: ${record.Cause}` : ''}`.slice(0, 500);
  for (const item of batch.data.Items) yield { tenant: item.tenant, episode_id: item.episode_id, status: 'error', error };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
