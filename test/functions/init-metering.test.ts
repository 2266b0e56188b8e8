import { lambdaContext } from '../../layers/cloud/src/invokers';
import { startCloud, syncTrainingEvent, type Cloud } from './helpers';

/**
 * The training Lambda's cold start is metered: the container's INIT phase (billed by Lambda
 * with the first invocation) counts in the GB-seconds of the step whose invocation paid it,
 * once; later invocations of the same container are billed their own duration only.
 */

describe('the training Lambda meters its initialisation with the first invocation', () => {
  let cloud: Cloud;
  const INIT_MS = 1500;

  beforeAll(async () => {
    // Each invocation is billed 250 ms by the test's billing clock, at 2048 MB.
    cloud = await startCloud({ trainingMemoryMb: 2048, training: { initMs: INIT_MS }, apiEnv: { SYNC_STEP_BUDGET_MS: '600000' } });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('bills init + duration to the first training step and duration alone to the next', async () => {
    const id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } })).json.episode_id;
    const post = (body: unknown) => cloud.api('POST', `/v1/episodes/${id}/steps`, { body });
    expect((await post({ tool: 'configure_training', arguments: {} })).status).toBe(200);
    expect((await post({ tool: 'run_epochs', arguments: { num_epochs: 1 } })).status).toBe(200);
    const first = (await cloud.api('GET', '/v1/usage')).json.usage;
    expect(first).toMatchObject({ lambda_requests: 1, lambda_billed_ms: INIT_MS + 250 });
    expect(first.lambda_gb_seconds).toBeCloseTo(2 * (INIT_MS + 250) / 1000, 6);

    expect((await post({ tool: 'run_epochs', arguments: { num_epochs: 1 } })).status).toBe(200);
    const second = (await cloud.api('GET', '/v1/usage')).json.usage;
    expect(second).toMatchObject({ lambda_requests: 2, lambda_billed_ms: INIT_MS + 2 * 250 });
  });
});

describe('a cold start whose invocation executes nothing', () => {
  let cloud: Cloud;

  beforeAll(async () => {
    cloud = await startCloud({ trainingMemoryMb: 2048, training: { initMs: 900 } });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('is still metered, init included, on the episode it was invoked for (Lambda billed it); the next one that executes nothing is not', async () => {
    const id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } })).json.episode_id as string;
    const call = { tool: 'configure_training', arguments: {} };
    expect((await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { ...call, request_id: 'c-1' } })).status).toBe(200);
    // A retried delivery of an already committed step: the training Lambda replays it.
    const event = syncTrainingEvent('tenant-a', id, call, 'c-1');
    const context = () => lambdaContext({ functionName: 'training', memoryMb: 2048 });
    expect(await cloud.trainingHandler(event, context())).toMatchObject({ ok: true, view: { replayed: true } });
    expect((await cloud.api('GET', '/v1/usage')).json.usage).toMatchObject({ lambda_requests: 1, lambda_billed_ms: 900 + 250 });
    expect(await cloud.trainingHandler(event, context())).toMatchObject({ ok: true, view: { replayed: true } });
    expect((await cloud.api('GET', '/v1/usage')).json.usage).toMatchObject({ lambda_requests: 1, lambda_billed_ms: 900 + 250 });
  });
});
