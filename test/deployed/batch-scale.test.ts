import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createStorageFromEnv, STORAGE_ENV, TABLE_LAYOUT, type Storage } from '../../layers/storage/src';
import { synthesize, type Synthesized } from '../infra/synth';
import { Deployment } from './deployment';
import { deniedCalls, describeDenied } from './permission-check';
import { writeEndedEpisodes, type SyntheticEpisodes } from './synthetic-episodes';
import { TemplateModel } from './template-model';

/**
 * Issue 17, item 5: batch grading at scale, as deployed. 20,000 ended episodes (formula
 * trainer records, no training) in the embedded DynamoDB; the synthesized state machine's
 * definition, run by the local interpreter from the schedule's own input, finds them into its
 * S3 manifest, grades them in the distributed map's batches (each batch one invocation of the
 * synthesized grade-batch bundle, in its own process) and reports them from the map's S3
 * results, in one run. Every episode must be graded exactly once. The test prints the run's
 * wall time, each function's peak memory and the AWS calls per episode (the figures behind
 * infra/README.md's cost table).
 */
const EPISODES = 20_000;
const TENANTS = 50;

describe('batch grading of 20,000 ended episodes in one run, as deployed', () => {
  let synth: Synthesized;
  let model: TemplateModel;
  let d: Deployment;
  let storage: Storage;
  let seeded: SyntheticEpisodes;
  let batchStack: string;

  beforeAll(async () => {
    synth = synthesize({ nag: false });
    model = TemplateModel.fromAssembly(synth.outdir);
    const [machine] = model.resourcesOfType('AWS::StepFunctions::StateMachine');
    batchStack = machine!.stack;
    d = await Deployment.start(model, { only: (fn) => fn.ref.stack === batchStack });
    // A function that writes the reports bucket (find-episodes, write-report): its storage reads the run files and the report.
    // (Not the first started: functions start concurrently, and grade-batch has no reports bucket.)
    const env = d.functionNames().map((name) => d.fn(name).env).find((e) => e.REPORTS_BUCKET !== undefined)!;
    storage = createStorageFromEnv({ ...env, AWS_REGION: 'us-east-1', [STORAGE_ENV.localEndpoint]: 'true', [STORAGE_ENV.dynamodbEndpoint]: d.runtime.endpoints.dynamodb, [STORAGE_ENV.s3Endpoint]: d.runtime.endpoints.s3 });
    const started = Date.now();
    // One episode ending every 5 s over the ~28 hours before now: two UTC days, every shard of the end-time index.
    seeded = await writeEndedEpisodes(storage.episodes, storage.clients.documents, { count: EPISODES, tenants: TENANTS, firstEnd: new Date(Date.now() - 30 * 3_600_000), spacingMs: 5_000 });
    console.log(`seeded ${EPISODES} ended episodes (${seeded.meanItemBytes} bytes an item) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  afterAll(async () => {
    storage?.close();
    await d?.close();
    synth?.cleanup();
  });

  it('grades every episode exactly once, with state payloads that do not grow with the episodes', async () => {
    const [schedule] = model.resourcesOfType('AWS::Scheduler::Schedule');
    const callsBefore = d.calls.length;
    const started = Date.now();
    const { runs } = await d.fireSchedule(model.physicalName(schedule!), new Date());
    const wallSeconds = (Date.now() - started) / 1000;

    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.output.found).toMatchObject({ status: 'found', truncated: false, counts: { ended: EPISODES, abandoned: 0, total: EPISODES, carried_over: 0 } });

    // The map's result files, as write-report read them: one entry per episode.
    const entries = await resultEntries(run.output.graded.ResultWriterDetails.Key);
    const graded = new Map<string, number>();
    for (const e of entries) graded.set(`${e.tenant}#${e.episode_id}`, (graded.get(`${e.tenant}#${e.episode_id}`) ?? 0) + 1);
    expect(entries.filter((e) => e.status !== 'graded')).toEqual([]);
    expect(graded.size).toBe(EPISODES);
    expect([...graded.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(seeded.keys)).toEqual(new Set(graded.keys()));
    // The store agrees: each item carries this run's grading note, once.
    const notes = await gradedNotes();
    expect(notes.size).toBe(EPISODES);
    expect([...notes.values()].every((by) => by === `batch:${run.name}`)).toBe(true);

    const report = JSON.parse(Buffer.from((await storage.reports.get(run.output.report.report_key))!).toString('utf8'));
    expect(report.counts).toEqual({ episodes: EPISODES, graded: EPISODES, carried_over: 0 });
    expect(Object.values(report.tasks).reduce((n: number, t: any) => n + t.stats.episodes, 0)).toBe(EPISODES);
    expect(Object.keys(report.tenants)).toHaveLength(TENANTS);

    // State payloads are locations and counts: the run's whole final state is a few KB for 20,000 episodes.
    const stateBytes = Buffer.byteLength(JSON.stringify(run.output));
    expect(stateBytes).toBeLessThan(4_096);
    const gradeBatch = d.functionNames().find((n) => n.includes('GradeBatch'))!;
    const batches = d.invocations.filter((i) => i.function === gradeBatch);
    const answerBytes = batches.map((i) => (i.outcome.ok ? Buffer.byteLength(JSON.stringify(i.outcome.result)) : 0));
    expect(batches.every((i) => i.outcome.ok)).toBe(true);
    expect(Math.max(...answerBytes)).toBeLessThan(256 * 1024);

    const calls = d.calls.slice(callsBefore);
    expect(describeDenied(deniedCalls(model, calls))).toBe('');
    const perEpisode = (caller: string | null, prefix: string) =>
      Object.fromEntries(
        [...countBy(calls.filter((c) => (caller === null || c.caller === caller) && c.action.startsWith(prefix)).map((c) => c.action))].map(([a, n]) => [a, +(n / EPISODES).toFixed(4)]),
      );
    const peak = d.peakMemoryBytes();
    console.log(
      [
        `batch run of ${EPISODES} episodes: ${wallSeconds.toFixed(1)} s wall (${(EPISODES / wallSeconds).toFixed(0)} episodes/s on this machine), ${batches.length} grade-batch invocations in ${d.containers()[gradeBatch]} processes`,
        `final state ${stateBytes} bytes; largest grade-batch answer ${Math.max(...answerBytes)} bytes`,
        `handler time (s): ${Object.entries(handlerSeconds(d.invocations.filter((i) => i.function.includes('-Batch'))))
          .map(([name, t]) => `${name.replace(/^.*?-Batch-?/, '').replace(/Function[0-9A-F]{8}$/, '')} ${t.total.toFixed(1)} in ${t.count} (median ${t.median.toFixed(2)})`)
          .join(', ')}`,
        `peak RSS per function (MiB): ${Object.entries(peak)
          .map(([name, bytes]) => `${name.replace(/^.*?-Batch-?/, '').replace(/Function[0-9A-F]{8}$/, '')} ${(bytes / 2 ** 20).toFixed(0)}`)
          .join(', ')}`,
        `AWS calls per episode, all callers: ${JSON.stringify({ ...perEpisode(null, 'dynamodb:'), ...perEpisode(null, 's3:'), ...perEpisode(null, 'lambda:'), ...perEpisode(null, 'states:') })}`,
      ].join('\n'),
    );
  }, 1_800_000);

  async function resultEntries(manifestKey: string): Promise<{ tenant: string; episode_id: string; status: string }[]> {
    const manifest = JSON.parse(Buffer.from((await storage.reports.get(manifestKey))!).toString('utf8'));
    const files = [...manifest.ResultFiles.SUCCEEDED, ...manifest.ResultFiles.FAILED, ...manifest.ResultFiles.PENDING];
    expect(manifest.ResultFiles.FAILED).toEqual([]);
    const entries = [];
    for (const file of files) {
      const text = Buffer.from((await storage.reports.get(file.Key))!).toString('utf8');
      for (const line of text.split('\n')) if (line.trim() !== '') entries.push(JSON.parse(line));
    }
    return entries;
  }

  /** `<tenant>#<episode>` → graded_by of every episode item that has the note. */
  async function gradedNotes(): Promise<Map<string, string>> {
    const notes = new Map<string, string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await storage.clients.documents.send(
        new ScanCommand({
          TableName: storage.episodes.tableName,
          ProjectionExpression: 'tenant, episode_id, graded_by, #pk',
          ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey.name },
          FilterExpression: 'attribute_exists(graded_by)',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) notes.set(`${item.tenant}#${item.episode_id}`, String(item.graded_by));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return notes;
  }
});

/** Per function: the handler seconds in all, the invocations and the median invocation. */
function handlerSeconds(invocations: { function: string; ms: number }[]): Record<string, { total: number; count: number; median: number }> {
  const byFunction = new Map<string, number[]>();
  for (const i of invocations) byFunction.set(i.function, [...(byFunction.get(i.function) ?? []), i.ms / 1000]);
  return Object.fromEntries(
    [...byFunction].map(([name, seconds]) => {
      const sorted = [...seconds].sort((a, b) => a - b);
      return [name, { total: seconds.reduce((a, b) => a + b, 0), count: seconds.length, median: sorted[Math.floor(sorted.length / 2)]! }];
    }),
  );
}

function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
