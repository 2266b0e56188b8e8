import { DEFAULT_STEP_LEASE_MS } from '../../layers/episodes/src/lease-heartbeat';
import { gatedFactory, startCloud, syncTrainingEvent, testClock, type ApiAnswer, type Cloud } from './helpers';

/**
 * Single flight through the cloud app (api Lambda → training Lambda, in process on
 * dynalite/s3rver): concurrent requests on one episode train once, the others get the
 * stored result (or the same 202) or 409 episode_busy at once, and only executed work is
 * metered.
 */

const CALLERS = 10;

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

/** The answers in the order they arrive, resolving once `count` have. */
function firstAnswers(requests: Promise<ApiAnswer>[], count: number): Promise<ApiAnswer[]> {
  const answered: ApiAnswer[] = [];
  return new Promise((resolve) => {
    requests.forEach((request) =>
      void request.then((answer) => {
        answered.push(answer);
        if (answered.length === count) resolve(answered);
      }),
    );
  });
}

describe('one execution per episode through the cloud app (synchronous steps)', () => {
  const gate = gatedFactory();
  let cloud: Cloud;

  beforeAll(async () => {
    cloud = await startCloud({ trainers: gate.factory });
  });
  afterAll(async () => {
    gate.open();
    await cloud?.close();
  });

  async function configuredEpisode(): Promise<string> {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } });
    const id = created.json.episode_id as string;
    expect((await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: {} } })).status).toBe(200);
    return id;
  }

  const trainings = () => gate.counts.create + gate.counts.restore;
  /** The tenant's usage this month (what GET /v1/usage reports). */
  const usageNow = async () => {
    const usage = await cloud.api('GET', '/v1/usage');
    expect(usage.status).toBe(200);
    return usage.json.usage;
  };

  it(`${CALLERS} different concurrent run_epochs: one trains; the others get 409 episode_busy with Retry-After while it trains, unmetered`, async () => {
    const id = await configuredEpisode();
    const usageBefore = await usageNow();
    gate.close();
    const before = trainings();
    const requests = Array.from({ length: CALLERS }, (_, i) =>
      cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 2 }, request_id: `different-${i}` } }),
    );
    // The gate is shut: the executing step cannot finish before the others are answered.
    const refused = await firstAnswers(requests, CALLERS - 1);
    for (const answer of refused) {
      expect(answer.status).toBe(409);
      expect(answer.json.error.code).toBe('episode_busy');
      expect(Number(answer.headers['retry-after'] ?? answer.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    }
    gate.open();
    const all = await Promise.all(requests);
    const ok = all.filter((a) => a.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0].json).toMatchObject({ version: 2, error: null, replayed: false });
    expect(trainings() - before).toBe(1);
    // One more metered invocation: the one that executed (refusals in the api or the training Lambda are not metered).
    const usageAfter = await usageNow();
    expect(usageAfter.lambda_requests - usageBefore.lambda_requests).toBe(1);
  });

  it(`${CALLERS} concurrent duplicates of one run_epochs train once, answer identically, and are metered once`, async () => {
    const id = await configuredEpisode();
    const usageBefore = await usageNow();
    gate.close();
    const before = { trainings: trainings(), epochs: gate.counts.trainEpoch };
    const requests = Array.from({ length: CALLERS }, () =>
      cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 3 }, request_id: 'same-call' } }),
    );
    await until(() => gate.counts.trainEpoch > before.epochs, 'the first copy to train');
    gate.open();
    const all = await Promise.all(requests);
    expect(all.map((a) => a.status)).toEqual(Array(CALLERS).fill(200));
    expect(trainings() - before.trainings).toBe(1);
    expect(gate.counts.trainEpoch - before.epochs).toBe(3);
    expect(all.filter((a) => a.json.replayed === false)).toHaveLength(1);
    const first = all.find((a) => a.json.replayed === false)!.json;
    for (const answer of all) expect({ ...answer.json, replayed: false }).toEqual(first);
    const usageAfter = await usageNow();
    expect(usageAfter.lambda_requests - usageBefore.lambda_requests).toBe(1);
    expect(usageAfter.epochs_trained - usageBefore.epochs_trained).toBe(3);
  });

  it("the training Lambda's lease is the short one its invocation renews: an invocation that ends abruptly leaves it for at most DEFAULT_STEP_LEASE_MS", async () => {
    const id = await configuredEpisode();
    gate.close();
    const epochs = gate.counts.trainEpoch;
    const request = cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 1 }, request_id: 'short-lease' } });
    await until(() => gate.counts.trainEpoch > epochs, 'the step to train');
    const { lease } = (await cloud.runtime.episodes.readLease('tenant-a', id))!;
    expect(lease).toMatchObject({ request_id: 'short-lease' });
    // By the store's (real) clock: not the function's 15-minute timeout plus a margin.
    expect(Date.parse(lease!.expires_at) - Date.now()).toBeLessThanOrEqual(DEFAULT_STEP_LEASE_MS);
    gate.open();
    expect((await request).json).toMatchObject({ version: 2, replayed: false });
  });

  it('the training Lambda meters an invocation that executed, not a replay or a refusal', async () => {
    const id = await configuredEpisode();
    gate.open();
    const before = await usageNow();
    const call = { tool: 'run_epochs', arguments: { num_epochs: 1 } };
    const event = syncTrainingEvent('tenant-a', id, call, 'direct-1');
    expect(await cloud.training.invokeSync(event, { timeoutMs: 60_000 })).toMatchObject({ ok: true, view: { version: 2, replayed: false } });
    expect(await cloud.training.invokeSync(event, { timeoutMs: 60_000 })).toMatchObject({ ok: true, view: { version: 2, replayed: true } });
    // Another step holds the lease (as if it had just started elsewhere): this one is refused without training.
    const held = await cloud.runtime.episodes.acquireLease('tenant-a', id, 2, { holder: 'elsewhere', request_id: 'other', call_sha256: 'c'.repeat(64) }, 60_000);
    expect(held).toHaveProperty('acquired');
    const epochs = gate.counts.trainEpoch;
    expect(await cloud.training.invokeSync({ ...event, request_id: 'direct-2' }, { timeoutMs: 60_000 })).toMatchObject({ ok: false, error: { code: 'episode_busy' } });
    expect(gate.counts.trainEpoch).toBe(epochs);
    const after = await usageNow();
    expect(after.lambda_requests - before.lambda_requests).toBe(1);
    expect(after.epochs_trained - before.epochs_trained).toBe(1);
  });
});

describe('one execution per episode through the cloud app (asynchronous steps)', () => {
  const gate = gatedFactory();
  const clock = testClock(Date.parse('2031-05-06T07:00:00.000Z'));
  let cloud: Cloud;

  beforeAll(async () => {
    cloud = await startCloud({
      trainers: gate.factory,
      clock,
      queueAsync: true,
      apiEnv: { SYNC_STEP_BUDGET_MS: '5000', STEP_SECONDS_PER_EPOCH: 'easy_mnist=1', STEP_OVERHEAD_MS: '1000', STEP_DATA_LOAD_MS: '0' },
    });
  });
  afterAll(async () => {
    gate.open();
    await cloud?.queue?.release();
    await cloud?.close();
  });

  it('while a long step trains: its duplicates get the same 202, another call 409 episode_busy, nothing else is invoked', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } });
    const id = created.json.episode_id as string;
    const steps = `/v1/episodes/${id}/steps`;
    expect((await cloud.api('POST', steps, { body: { tool: 'configure_training', arguments: {} } })).status).toBe(200);
    const long = { tool: 'run_epochs', arguments: { num_epochs: 10 }, request_id: 'long-1' };
    const accepted = await cloud.api('POST', steps, { body: long });
    expect(accepted.status).toBe(202);
    await cloud.queue!.release();
    await until(() => gate.counts.trainEpoch >= 1, 'the long step to start training');
    const invocations = cloud.training.invocations.length;

    const answers = await Promise.all([
      ...Array.from({ length: CALLERS - 1 }, () => cloud.api('POST', steps, { body: long })),
      cloud.api('POST', steps, { body: { tool: 'get_training_status', request_id: 'status-1' } }),
      cloud.api('POST', steps, { body: { tool: 'run_epochs', arguments: { num_epochs: 1 } } }),
    ]);
    const duplicates = answers.slice(0, CALLERS - 1);
    for (const duplicate of duplicates) {
      expect(duplicate.status).toBe(202);
      // The same pending step, now running.
      expect(duplicate.json).toMatchObject({ step_id: 'long-1', poll: accepted.json.poll, requested_at: accepted.json.requested_at, status: 'running' });
    }
    for (const other of answers.slice(CALLERS - 1)) {
      expect(other.status).toBe(409);
      expect(other.json.error.code).toBe('episode_busy');
    }
    expect(cloud.training.invocations.length).toBe(invocations);
    expect(cloud.queue!.queued).toHaveLength(0);

    gate.open();
    let done: ApiAnswer | undefined;
    for (let i = 0; i < 500 && done?.status !== 200; i++) {
      done = await cloud.api('GET', `${steps}/long-1`);
      if (done.status !== 200) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(done!.json).toMatchObject({ version: 2, error: null });
    // One trainer in all: the configuration ran in the api (recorded), the long step built the model and trained.
    expect(gate.counts).toMatchObject({ create: 1, restore: 0 });
  });
});
