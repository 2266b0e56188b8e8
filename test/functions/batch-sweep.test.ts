import { createWriteReportHandler } from '../../functions/batch/write-report';
import { itemsOf, sweepRunCheckpoints } from '../../layers/cloud/src';
import { lambdaContext } from '../../layers/cloud/src/invokers';
import { CHECKPOINTS_PREFIX, checkpointPrefix } from '../../layers/storage/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { startCloud, type Cloud } from './helpers';

/**
 * Issue 12, item 9 in the cloud: the nightly batch's write-report step sweeps orphan
 * checkpoints (no episode item points to them, older than the safe age), a bounded share
 * of the bucket per run, continuing where the previous run stopped.
 */

const HOUR_MS = 3_600_000;

describe('batch run: the orphan-checkpoint sweep', () => {
  let runtime: LocalRuntime;
  let cloud: Cloud;
  let referenced: string;
  let orphan: string;
  let ghost: string;

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    cloud = await startCloud({ runtime });
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } });
    const id = created.json.episode_id as string;
    await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: {} } });
    // The first checkpoint is written by the first training step (configure_training only records the build in the api).
    await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 1 } } });
    referenced = (await runtime.checkpoints.listAll(CHECKPOINTS_PREFIX)).find((o) => o.key.includes(`/${id}/`))!.key;
    const tenant = referenced.split('/')[1]!;
    // What a training invocation killed between its upload and its commit leaves behind.
    orphan = `${checkpointPrefix(tenant, id)}${'0'.repeat(64)}.killed-step.bin`;
    ghost = `${checkpointPrefix(tenant, 'expired-episode')}${'1'.repeat(64)}.gone.bin`;
    await runtime.checkpoints.put(orphan, new Uint8Array([1, 2]));
    await runtime.checkpoints.put(ghost, new Uint8Array([3]));
  });
  afterAll(async () => {
    await cloud?.close();
    await runtime?.close();
  });

  const keys = async () => (await runtime.checkpoints.listAll(CHECKPOINTS_PREFIX)).map((o) => o.key).sort();
  const runWriteReport = (now: () => number, runId: string) => {
    const handler = createWriteReportHandler({ storage: runtime, env: { REPORTS_BUCKET: runtime.config.reportsBucket, REPORTS_PREFIX: 'reports/' }, now });
    const started = new Date().toISOString();
    const found = { status: 'found', since: new Date(Date.now() - HOUR_MS).toISOString(), until: started, truncated: false, counts: { ended: 0, abandoned: 0, total: 0, carried_over: 0 } };
    return handler({ run_id: runId, started_at: started, found, graded: {} }, lambdaContext({ functionName: 'write-report' }));
  };

  it('keeps young orphans, then removes them after the safe age; never a referenced checkpoint', async () => {
    await runWriteReport(Date.now, 'run-young');
    expect(await keys()).toEqual([referenced, orphan, ghost].sort());

    const written = await runWriteReport(() => Date.now() + HOUR_MS + 60_000, 'run-old');
    expect(await runtime.reports.head(written!.report_key)).not.toBeNull(); // the report is written as before
    expect(await keys()).toEqual([referenced]);
    expect(await itemsOf(runtime).batch.sweepCursor()).toBeNull(); // the whole bucket was swept: the next run starts over
  });

  it('a bounded run stores where it stopped and the next run continues there', async () => {
    const items = itemsOf(runtime);
    const extra = `${CHECKPOINTS_PREFIX}${referenced.split('/')[1]}/zz-expired/${'2'.repeat(64)}.gone.bin`;
    await runtime.checkpoints.put(extra, new Uint8Array([4]));
    const later = () => Date.now() + HOUR_MS + 60_000;
    const first = await sweepRunCheckpoints({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, items, maxObjects: 1, now: later });
    expect(first).toMatchObject({ examined: 1, deleted: [] }); // the referenced one comes first in key order
    expect(await items.batch.sweepCursor()).toBe(referenced);
    const second = await sweepRunCheckpoints({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, items, maxObjects: 1, now: later });
    expect(second).toMatchObject({ examined: 1, deleted: [extra], cursor: null });
    expect(await items.batch.sweepCursor()).toBeNull();
    expect(await keys()).toEqual([referenced]);
  });
});
