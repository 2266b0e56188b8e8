import { BatchResultsError, mapRunEntries, type MapResult } from '../../layers/cloud/src/batch-results';
import type { ReportEntry } from '../../layers/cloud/src/leaderboard';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';

/**
 * write-report's reading of the distributed map's results (layers/cloud/src/batch-results.ts)
 * from s3rver: the ResultWriter's manifest.json names the SUCCEEDED, FAILED and PENDING files;
 * each line is a report entry or a child execution's record.
 */

const PREFIX = 'batch-runs/results/map-1/';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:batch-child:';

const entry = (id: string, extra: object = {}) => ({ tenant: 'tenant-a', episode_id: id, task_id: 'easy_mnist', status: 'graded', score: 0.5, ...extra });
const batchOf = (...ids: string[]) => JSON.stringify({ Items: ids.map((id) => ({ tenant: 'tenant-b', episode_id: id, abandoned: false })), BatchInput: { run_id: 'run-1' } });

describe('mapRunEntries', () => {
  let runtime: LocalRuntime;
  let n = 0;

  beforeAll(async () => {
    runtime = await startLocalRuntime();
  });
  afterAll(async () => {
    await runtime?.close();
  });

  /** Writes the files under a fresh prefix and a manifest naming them in the given groups; the map's output. */
  async function mapRun(files: { SUCCEEDED?: string[]; FAILED?: string[]; PENDING?: string[] }, missing: string[] = []): Promise<MapResult> {
    const base = `${PREFIX}${++n}/`;
    const resultFiles: Record<string, { Key: string; Size: number }[]> = {};
    for (const [status, bodies] of Object.entries(files)) {
      resultFiles[status] = [];
      for (const [i, body] of bodies.entries()) {
        const key = `${base}${status}_${i}.json`;
        if (!missing.includes(`${status}_${i}`)) await runtime.reports.put(key, body);
        resultFiles[status]!.push({ Key: key, Size: body.length });
      }
    }
    await runtime.reports.put(`${base}manifest.json`, JSON.stringify({ DestinationBucket: runtime.reports.bucket, MapRunArn: 'arn:map', ResultFiles: resultFiles }));
    return { ResultWriterDetails: { Bucket: runtime.reports.bucket, Key: `${base}manifest.json` } };
  }

  async function read(result: MapResult): Promise<{ entries: ReportEntry[]; skipped: string[] }> {
    const skipped: string[] = [];
    const entries: ReportEntry[] = [];
    for await (const e of mapRunEntries(runtime.reports, result, (line) => skipped.push(line))) entries.push(e);
    return { entries, skipped };
  }

  it('yields nothing when the map was skipped ({} or no output)', async () => {
    for (const skippedMap of [{}, null, undefined]) expect(await read(skippedMap)).toEqual({ entries: [], skipped: [] });
  });

  it('reads entries and succeeded children\'s outputs, SUCCEEDED files first, then FAILED, then PENDING, in each file\'s order', async () => {
    const lines = (...rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    const result = await mapRun({
      PENDING: [lines({ ExecutionArn: `${ARN}p`, Status: 'PENDING', Input: batchOf('p1') })],
      FAILED: [lines({ ExecutionArn: `${ARN}f`, Status: 'FAILED', Input: batchOf('f1', 'f2'), Error: 'Lambda.Unknown', Cause: 'timed out' })],
      SUCCEEDED: [
        lines(entry('s1'), { ExecutionArn: `${ARN}s`, Status: 'SUCCEEDED', Input: batchOf('s2', 's3'), Output: JSON.stringify([entry('s2'), entry('s3', { status: 'not_found', score: null })]) }),
        lines(entry('s4'), { ExecutionArn: `${ARN}o`, Status: 'SUCCEEDED', Output: JSON.stringify(entry('s5')) }),
      ],
    });
    const { entries, skipped } = await read(result);
    expect(skipped).toEqual([]);
    expect(entries.map((e) => [e.episode_id, e.status])).toEqual([
      ['s1', 'graded'],
      ['s2', 'graded'],
      ['s3', 'not_found'],
      ['s4', 'graded'],
      ['s5', 'graded'],
      ['f1', 'error'],
      ['f2', 'error'],
      ['p1', 'error'],
    ]);
    expect(entries[0]).toEqual(entry('s1')); // unchanged, extra fields kept
    expect(entries.slice(5)).toEqual([
      { tenant: 'tenant-b', episode_id: 'f1', status: 'error', error: 'Lambda.Unknown: timed out' },
      { tenant: 'tenant-b', episode_id: 'f2', status: 'error', error: 'Lambda.Unknown: timed out' },
      { tenant: 'tenant-b', episode_id: 'p1', status: 'error', error: 'PENDING' },
    ]);
  });

  it('reads CRLF line ends and skips blank lines; a malformed line or a non-entry is told to onSkipped, not thrown', async () => {
    const body = [JSON.stringify(entry('a')), '', '   ', '{"tenant": "tenant-a", "episode_id": "broken"', JSON.stringify(entry('b')), '{"hello": 1}', '[1,2]', JSON.stringify(entry('c')), ''].join('\r\n');
    const { entries, skipped } = await read(await mapRun({ SUCCEEDED: [body] }));
    expect(entries.map((e) => e.episode_id)).toEqual(['a', 'b', 'c']);
    expect(entries[2]).toEqual(entry('c')); // no trailing \r in the last field
    expect(skipped).toEqual(['{"tenant": "tenant-a", "episode_id": "broken"', '{"hello": 1}', '[1,2]']);
  });

  it('skips a failed record whose Input is not a batch, and a succeeded child\'s output item that is not an entry', async () => {
    const notBatch = { ExecutionArn: `${ARN}x`, Status: 'FAILED', Input: '{"episodes": []}', Error: 'States.Runtime' };
    const notJson = { ExecutionArn: `${ARN}y`, Status: 'FAILED', Input: '{not json', Error: 'States.Runtime' };
    const noInput = { ExecutionArn: `${ARN}z`, Status: 'FAILED' };
    const mixed = { ExecutionArn: `${ARN}m`, Status: 'SUCCEEDED', Output: JSON.stringify([entry('ok'), { episode_id: 'no-tenant' }]) };
    const body = [notBatch, notJson, noInput, mixed].map((r) => JSON.stringify(r)).join('\n');
    const { entries, skipped } = await read(await mapRun({ FAILED: [body] }));
    expect(entries.map((e) => e.episode_id)).toEqual(['ok']);
    expect(skipped).toEqual([JSON.stringify(notBatch), JSON.stringify(notJson), JSON.stringify(noInput), JSON.stringify({ episode_id: 'no-tenant' })]);
  });

  it('keeps the first 500 characters of a failed child\'s error', async () => {
    const record = { ExecutionArn: `${ARN}long`, Status: 'FAILED', Input: batchOf('long'), Error: 'Lambda.Unknown', Cause: 'x'.repeat(2000) };
    const { entries } = await read(await mapRun({ FAILED: [JSON.stringify(record)] }));
    expect((entries[0] as { error: string }).error).toBe(`Lambda.Unknown: ${'x'.repeat(500 - 'Lambda.Unknown: '.length)}`);
  });

  it('refuses results in another bucket, a missing manifest and a missing result file with BatchResultsError', async () => {
    const other = { ResultWriterDetails: { Bucket: runtime.config.dataBucket, Key: `${PREFIX}manifest.json` } };
    await expect(read(other)).rejects.toThrow(BatchResultsError);
    await expect(read(other)).rejects.toThrow(/not in the reports bucket/);
    const absent = { ResultWriterDetails: { Bucket: runtime.reports.bucket, Key: `${PREFIX}nowhere/manifest.json` } };
    await expect(read(absent)).rejects.toThrow(BatchResultsError);
    await expect(read(absent)).rejects.toThrow(/manifest .* is missing/);
    const gone = await mapRun({ SUCCEEDED: [JSON.stringify(entry('here')), JSON.stringify(entry('gone'))] }, ['SUCCEEDED_1']);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of mapRunEntries(runtime.reports, gone)) seen.push(e.episode_id);
    })();
    await expect(reading).rejects.toThrow(BatchResultsError);
    await expect(reading).rejects.toThrow(/SUCCEEDED_1\.json named by the map's manifest is missing/);
    expect(seen).toEqual(['here']);
  });

  it('refuses a manifest that is not JSON, or not the ResultWriter\'s shape, with BatchResultsError naming the manifest and the fault', async () => {
    const notJson = `${PREFIX}broken/manifest.json`;
    await runtime.reports.put(notJson, '{"ResultFiles": ');
    const broken = { ResultWriterDetails: { Bucket: runtime.reports.bucket, Key: notJson } };
    await expect(read(broken)).rejects.toThrow(BatchResultsError);
    await expect(read(broken)).rejects.toThrow(`${notJson} is not a ResultWriter manifest`);
    const wrongShape = `${PREFIX}shape/manifest.json`;
    await runtime.reports.put(wrongShape, JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: 7 }] } }));
    const shaped = { ResultWriterDetails: { Bucket: runtime.reports.bucket, Key: wrongShape } };
    await expect(read(shaped)).rejects.toThrow(BatchResultsError);
    await expect(read(shaped)).rejects.toThrow(/ResultFiles\.SUCCEEDED\[0\]\.Key/);
  });

  it('streams a file of 50,000 lines', async () => {
    const count = 50_000;
    const rows: string[] = [];
    for (let i = 0; i < count; i++) rows.push(JSON.stringify(entry(`big-${i}`)));
    const result = await mapRun({ SUCCEEDED: [`${rows.join('\n')}\n`] });
    let seen = 0;
    let last = '';
    let skipped = 0;
    for await (const e of mapRunEntries(runtime.reports, result, () => skipped++)) {
      seen += 1;
      last = e.episode_id;
    }
    expect({ seen, last, skipped }).toEqual({ seen: count, last: `big-${count - 1}`, skipped: 0 });
  });
});
