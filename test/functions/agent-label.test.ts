import { STEP_REASON_MAX_LENGTH } from '../../layers/core/src';
import { lambdaContext } from '../../layers/cloud/src/invokers';
import { startCloud, syncTrainingEvent, type Cloud } from './helpers';

/**
 * The agent label and the step reasons through the api Lambda (real API Gateway events) and
 * the training Lambda (the reason travels in its event), read back from dynalite.
 */

const LABEL = { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' };

describe('cloud api: agent label and step reasons', () => {
  let cloud: Cloud;
  beforeAll(async () => {
    cloud = await startCloud({ apiEnv: { SYNC_STEP_BUDGET_MS: '60000' } });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('stores the label from creation and each step reason, in the api and in the training Lambda, and lists the label', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist', seed: 2, agent: LABEL } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ agent: LABEL, record: { agent: LABEL } });
    const id = created.json.episode_id;
    const calls = [
      { tool: 'configure_training', arguments: { learning_rate: 0.001 }, reason: 'a safe learning rate' },
      { tool: 'run_epochs', arguments: { num_epochs: 2 }, reason: 'train a little\nthen look' },
      { tool: 'get_training_status', arguments: {} },
    ];
    for (const [i, call] of calls.entries()) {
      const step = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { ...call, request_id: `label-${i}` } });
      expect(step.status).toBe(200);
    }
    // The training step's event carried the reason (the api committed the others itself).
    expect(cloud.training.invocations.map((c) => (c.event as { call: unknown }).call)).toEqual([calls[1]]);

    const read = await cloud.api('GET', `/v1/episodes/${id}`);
    expect(read.json.agent).toEqual(LABEL);
    expect(read.json.record.steps.map((s: { reason?: string }) => s.reason ?? null)).toEqual(['a safe learning rate', 'train a little\nthen look', null]);
    const listed = await cloud.api('GET', '/v1/episodes');
    expect(listed.json.items.find((e: { episode_id: string }) => e.episode_id === id).agent).toEqual(LABEL);
  });

  it('refuses a bad label or reason with a 400 naming the field; nothing is created or spent', async () => {
    const before = (await cloud.api('GET', '/v1/episodes')).json.items.length;
    for (const agent of [{ policy: 'x'.repeat(65) }, { policy: 'p', version: 'tab\there' }, [], { policy: 'p', admin: true }]) {
      const res = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist', agent } });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.json.error)).toContain('agent');
    }
    expect((await cloud.api('GET', '/v1/episodes')).json.items.length).toBe(before);
    const id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } })).json.episode_id;
    const tooLong = await cloud.api('POST', `/v1/episodes/${id}/steps`, {
      body: { tool: 'run_epochs', arguments: { num_epochs: 1 }, reason: 'r'.repeat(STEP_REASON_MAX_LENGTH + 1) },
    });
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.json.error)).toContain('reason');
    expect((await cloud.api('GET', `/v1/episodes/${id}`)).json).toMatchObject({ step_count: 0, agent: null });
  });

  it('the training Lambda refuses an event whose call carries an over-long reason, naming call.reason', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } });
    const event = syncTrainingEvent('tenant-a', created.json.episode_id, { tool: 'run_epochs', arguments: { num_epochs: 1 } }, 'hand-made-1');
    const hostile = { ...event, call: { ...event.call, reason: 'r'.repeat(STEP_REASON_MAX_LENGTH + 1) } };
    await expect(cloud.trainingHandler(hostile, lambdaContext({ functionName: 'training', memoryMb: 10240 }))).rejects.toThrow(/call\.reason/);
    expect((await cloud.api('GET', `/v1/episodes/${created.json.episode_id}`)).json.step_count).toBe(0);
  });
});

describe('cloud api: the reason of an asynchronous step', () => {
  let cloud: Cloud;
  beforeAll(async () => {
    cloud = await startCloud({ apiEnv: { SYNC_STEP_BUDGET_MS: '1000', STEP_SECONDS_PER_EPOCH: 'easy_mnist=1', STEP_OVERHEAD_MS: '0', STEP_DATA_LOAD_MS: '0' } });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('travels in the asynchronous event and is stored with the step the training Lambda commits', async () => {
    const id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist', agent: { policy: 'baseline' } } })).json.episode_id;
    expect((await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: {} } })).status).toBe(200);
    const accepted = await cloud.api('POST', `/v1/episodes/${id}/steps`, {
      body: { tool: 'run_epochs', arguments: { num_epochs: 5 }, reason: 'a long run', request_id: 'async-1' },
    });
    expect(accepted.status).toBe(202);
    await cloud.training.drain();
    expect(cloud.training.invocations).toEqual([expect.objectContaining({ mode: 'async', event: expect.objectContaining({ call: expect.objectContaining({ reason: 'a long run' }) }) })]);
    const polled = await cloud.api('GET', `/v1/episodes/${id}/steps/async-1`);
    expect(polled.status).toBe(200);
    const record = (await cloud.api('GET', `/v1/episodes/${id}`)).json.record;
    expect(record.agent).toEqual({ policy: 'baseline' });
    expect(record.steps.map((s: { reason?: string }) => s.reason ?? null)).toEqual([null, 'a long run']);
  });
});
