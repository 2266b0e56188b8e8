import { gatedFactory, startCloud, testClock, type Cloud } from './helpers';

/**
 * Long steps: the api Lambda invokes the training Lambda asynchronously and answers 202
 * with the step to poll; the poll answers 202 while it runs, 200 with the stored view once
 * committed, and the failure when it failed or missed its deadline.
 */

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

describe('asynchronous steps: 202 → poll → 200', () => {
  const gate = gatedFactory();
  const clock = testClock(Date.parse('2031-05-06T07:00:00.000Z'));
  let cloud: Cloud;
  let id: string;
  let stepCount = 0;

  beforeAll(async () => {
    cloud = await startCloud({
      trainers: gate.factory,
      clock,
      queueAsync: true,
      apiEnv: { SYNC_STEP_BUDGET_MS: '5000', STEP_SECONDS_PER_EPOCH: 'easy_mnist=1', STEP_OVERHEAD_MS: '1000', STEP_DATA_LOAD_MS: '0' },
    });
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } });
    id = created.json.episode_id;
    const configured = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: {} } });
    expect(configured.status).toBe(200);
    stepCount = 1;
  });
  afterAll(async () => {
    gate.open();
    await cloud?.queue?.release();
    await cloud?.close();
  });

  const post = (body: unknown, opts: { timeoutMs?: number } = {}) => cloud.api('POST', `/v1/episodes/${id}/steps`, { body, ...opts });
  const poll = (stepId: string) => cloud.api('GET', `/v1/episodes/${id}/steps/${stepId}`);

  it('answers a long step with 202 {step_id, status, poll} and runs it asynchronously', async () => {
    // 1 s overhead + 10 epochs × 1 s > the 5 s budget.
    const accepted = await post({ tool: 'run_epochs', arguments: { num_epochs: 10 }, request_id: 'long-1' });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toEqual({
      step_id: 'long-1',
      status: 'pending',
      poll: `/v1/episodes/${id}/steps/long-1`,
      requested_at: clock().toISOString(),
      deadline_at: new Date(clock().getTime() + 60 * 60_000 + 16 * 60_000).toISOString(),
    });
    expect(accepted.headers.location).toBe(`/v1/episodes/${id}/steps/long-1`);
    expect(cloud.queue!.queued).toHaveLength(1);
    expect(cloud.queue!.queued[0]).toMatchObject({ mode: 'async', request_id: 'long-1', start_by: new Date(clock().getTime() + 3_600_000).toISOString() });

    // Still queued: pending.
    expect((await poll('long-1')).json).toMatchObject({ step_id: 'long-1', status: 'pending' });
    await cloud.queue!.release();
    await until(() => gate.counts.trainEpoch >= 1, 'the step to start training');
    const running = await poll('long-1');
    expect(running.status).toBe(202);
    expect(running.json).toMatchObject({ step_id: 'long-1', status: 'running' });
  });

  it('answers a retried request for a running step with the same 202 (no second execution), another call under its id with 409', async () => {
    const before = cloud.training.invocations.length;
    const again = await post({ tool: 'run_epochs', arguments: { num_epochs: 10 }, request_id: 'long-1' });
    expect(again.status).toBe(202);
    expect(again.json.step_id).toBe('long-1');
    const other = await post({ tool: 'run_epochs', arguments: { num_epochs: 3 }, request_id: 'long-1' });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('conflict');
    expect(cloud.training.invocations.length).toBe(before);
    expect(cloud.queue!.queued).toHaveLength(0);
  });

  it('answers the poll with 200 and the stored step view once the step committed', async () => {
    gate.open();
    await cloud.training.drain();
    const done = await poll('long-1');
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ episode_id: id, step: 2, tool: 'run_epochs', error: null, done: false, data: { epochs_just_trained: 10 } });
    stepCount = 2;
    expect((await poll('long-1')).json).toEqual(done.json);
    // A POST of the same request now replays the stored result.
    const replay = await post({ tool: 'run_epochs', arguments: { num_epochs: 10 }, request_id: 'long-1' });
    expect(replay.status).toBe(200);
    expect(replay.json).toMatchObject({ step: 2, replayed: true });
  });

  it('generates the step id when the client sends no request_id', async () => {
    const accepted = await post({ tool: 'run_epochs', arguments: { num_epochs: 8 } });
    expect(accepted.status).toBe(202);
    expect(accepted.json.step_id).toMatch(/^step-[0-9a-f-]{36}$/);
    await cloud.queue!.release();
    await cloud.training.drain();
    const done = await poll(accepted.json.step_id);
    expect(done.json).toMatchObject({ step: 3, tool: 'run_epochs' });
    stepCount = 3;
  });

  it('reports a step that failed in the training Lambda (and lets it be sent again)', async () => {
    gate.failNextEpoch();
    const accepted = await post({ tool: 'run_epochs', arguments: { num_epochs: 6 }, request_id: 'long-fail' });
    expect(accepted.status).toBe(202);
    await cloud.queue!.release();
    await cloud.training.drain();
    expect(cloud.training.asyncFailures).toHaveLength(1); // Lambda would send it to the DLQ
    const failed = await poll('long-fail');
    expect(failed.status).toBe(500);
    expect(failed.json.error).toMatchObject({ code: 'step_failed', details: { step_id: 'long-fail', status: 'failed', reason: 'internal' } });
    // Nothing was committed; the same request goes again.
    const retried = await post({ tool: 'run_epochs', arguments: { num_epochs: 6 }, request_id: 'long-fail' });
    expect(retried.status).toBe(202);
    await cloud.queue!.release();
    await cloud.training.drain();
    expect((await poll('long-fail')).json).toMatchObject({ step: 4, tool: 'run_epochs', data: { epochs_just_trained: 6 } });
    stepCount = 4;
  });

  it('turns a synchronous step that outlives the api Lambda into a pending one', async () => {
    gate.close();
    // 1 s + 2 epochs: synchronous; but the api Lambda has 3 s left and keeps a 2.5 s margin.
    const accepted = await post({ tool: 'run_epochs', arguments: { num_epochs: 2 }, request_id: 'slow-sync' }, { timeoutMs: 3000 });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toMatchObject({ step_id: 'slow-sync', status: 'pending' });
    expect(cloud.training.invocations.at(-1)).toMatchObject({ mode: 'sync' });
    expect((await poll('slow-sync')).status).toBe(202);
    gate.open();
    await cloud.training.drain();
    expect((await poll('slow-sync')).json).toMatchObject({ step: 5, tool: 'run_epochs' });
    stepCount = 5;
  });

  it('does not mistake the failure of an earlier attempt for the outcome of a retry that outlives the api Lambda', async () => {
    gate.failNextEpoch();
    const failed = await post({ tool: 'run_epochs', arguments: { num_epochs: 2 }, request_id: 'sync-fail' });
    expect(failed.status).toBe(500);
    expect(failed.json.error.code).toBe('internal_error');
    clock.advance(1000);
    gate.close();
    const retried = await post({ tool: 'run_epochs', arguments: { num_epochs: 2 }, request_id: 'sync-fail' }, { timeoutMs: 3000 });
    expect(retried.status).toBe(202);
    expect((await poll('sync-fail')).json).toMatchObject({ step_id: 'sync-fail', status: 'pending' });
    gate.open();
    await cloud.training.drain();
    expect((await poll('sync-fail')).json).toMatchObject({ step: 6, tool: 'run_epochs' });
    stepCount = 6;
  });

  it('does not start a step that waited in the queue past its start time, and says so', async () => {
    const accepted = await post({ tool: 'run_epochs', arguments: { num_epochs: 7 }, request_id: 'late' });
    expect(accepted.status).toBe(202);
    clock.advance(61 * 60_000);
    await cloud.queue!.release();
    await cloud.training.drain();
    const late = await poll('late');
    expect(late.status).toBe(500);
    expect(late.json.error.details).toMatchObject({ step_id: 'late', reason: 'not_started' });
    expect((await cloud.api('GET', `/v1/episodes/${id}`)).json.step_count).toBe(stepCount);
  });

  it('reports a step whose invocation was lost as failed once its deadline passed', async () => {
    const accepted = await post({ tool: 'run_epochs', arguments: { num_epochs: 7 }, request_id: 'lost' });
    expect(accepted.status).toBe(202);
    cloud.queue!.drop();
    expect((await poll('lost')).status).toBe(202);
    clock.advance(77 * 60_000);
    const lost = await poll('lost');
    expect(lost.status).toBe(500);
    expect(lost.json.error).toMatchObject({ code: 'step_failed', details: { step_id: 'lost', reason: 'not_started' } });
  });

  it('asks for the grade when the first poll sees that an asynchronous step ended the episode', async () => {
    while (stepCount < 14) {
      const status = await post({ tool: 'get_training_status' });
      expect(status.status).toBe(200);
      stepCount += 1;
    }
    expect(cloud.grade.invocations).toHaveLength(0);
    const last = await post({ tool: 'run_epochs', arguments: { num_epochs: 9 }, request_id: 'the-15th' });
    expect(last.status).toBe(202);
    await cloud.queue!.release();
    await cloud.training.drain();
    const done = await poll('the-15th');
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ step: 15, done: true, data: { auto_submitted: true } });
    await poll('the-15th');
    await cloud.grade.drain();
    expect(cloud.grade.invocations).toEqual([{ mode: 'async', event: { source: 'api', tenant: 'tenant-a', episode_id: id } }]);
    expect((await cloud.api('GET', `/v1/episodes/${id}`)).json).toMatchObject({ status: 'auto_submitted', step_count: 15 });
  });
});
