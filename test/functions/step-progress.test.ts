import { itemsOf, type CloudItems } from '../../layers/cloud/src';
import { epochGatedFactory } from '../agent/helpers/epoch-gated-trainers';
import { startCloud, type Cloud } from './helpers';

/**
 * The cloud's progress of a running step: the training Lambda writes each finished epoch into
 * the step's item (a conditional UpdateItem on the attempt that recorded it), and the poll
 * answers it as `progress`; only the tenant's own, and never over a later attempt or a
 * finished step.
 */

const until = async (condition: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('progress of an asynchronous step in the cloud', () => {
  const gate = epochGatedFactory();
  let cloud: Cloud;
  let items: CloudItems;
  let id: string;

  beforeAll(async () => {
    cloud = await startCloud({
      trainers: gate.factory,
      apiEnv: { SYNC_STEP_BUDGET_MS: '1500', STEP_SECONDS_PER_EPOCH: 'easy_mnist=1', STEP_OVERHEAD_MS: '1000', STEP_DATA_LOAD_MS: '0' },
    });
    items = itemsOf(cloud.runtime);
    id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } })).json.episode_id;
    expect((await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: {} } })).status).toBe(200);
  });
  afterAll(async () => {
    gate.allowAll();
    await cloud?.close();
  });

  const poll = (stepId: string, apiKeyId?: string) => cloud.api('GET', `/v1/episodes/${id}/steps/${stepId}`, apiKeyId === undefined ? {} : { apiKeyId });

  it('answers the epochs done so far while the step runs, 200 with the step once committed', async () => {
    const before = gate.started;
    gate.allow(before + 2);
    const accepted = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 5 }, request_id: 'long-p' } });
    expect(accepted.status).toBe(202);
    expect(accepted.json.progress).toBeUndefined();

    await until(async () => (await poll('long-p')).json?.progress?.epochs_done === 2, 'two epochs in the step item');
    const running = await poll('long-p');
    expect(running.status).toBe(202);
    expect(running.json).toMatchObject({ step_id: 'long-p', status: 'running', progress: { epochs_done: 2, epochs_planned: 5 } });
    expect(running.json.progress.epochs.map((e: { index: number; epoch: number }) => [e.index, e.epoch])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect((await items.steps.get('tenant-a', id, 'long-p'))?.progress?.epochs_done).toBe(2);

    // Another tenant's key sees no such step.
    const foreign = await poll('long-p', 'tenant-b');
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe('not_found');

    gate.allowAll();
    await cloud.training.drain();
    const done = await poll('long-p');
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ tool: 'run_epochs', data: { epochs_just_trained: 5 } });
    expect(gate.forced).toBe(0);
    // The first poll that saw the result removed the step's item: a late progress write cannot bring it back.
    expect(await items.steps.get('tenant-a', id, 'long-p')).toBeNull();
    const late = { epochs_done: 5, epochs_planned: 5, epochs: [] };
    expect(await items.steps.recordProgress('tenant-a', { episode_id: id, step_id: 'long-p', requested_at: accepted.json.requested_at }, late)).toBe(false);
    expect(await items.steps.get('tenant-a', id, 'long-p')).toBeNull();
  });

  it('writes progress only for the attempt that recorded the step, and not over a failure', async () => {
    const base = {
      episode_id: id,
      step_id: 'manual-1',
      call_sha256: 'c'.repeat(64),
      tool: 'run_epochs',
      mode: 'async' as const,
      requested_at: '2031-01-01T00:00:02.000Z',
      start_by: '2999-01-01T00:00:00.000Z',
      deadline_at: '2999-01-01T00:00:00.000Z',
    };
    expect(await items.steps.putPending('tenant-a', base)).toBe(true);
    const progress = { epochs_done: 1, epochs_planned: 3, epochs: [] };
    // An earlier attempt (another requested_at) writes nothing.
    expect(await items.steps.recordProgress('tenant-a', { ...base, requested_at: '2031-01-01T00:00:01.000Z' }, progress)).toBe(false);
    expect((await items.steps.get('tenant-a', id, 'manual-1'))?.progress).toBeUndefined();
    expect(await items.steps.recordProgress('tenant-a', base, progress)).toBe(true);
    expect((await items.steps.get('tenant-a', id, 'manual-1'))?.progress).toEqual(progress);
    expect((await poll('manual-1')).json).toMatchObject({ status: 'pending', progress });
    await items.steps.markFailed('tenant-a', base, { kind: 'internal', code: 'training_error', message: 'x' });
    expect(await items.steps.recordProgress('tenant-a', base, { ...progress, epochs_done: 2 })).toBe(false);
    // A new attempt starts without the old progress.
    expect(await items.steps.putPending('tenant-a', { ...base, requested_at: '2031-01-01T00:00:03.000Z' })).toBe(true);
    expect((await items.steps.get('tenant-a', id, 'manual-1'))?.progress).toBeUndefined();
  });

  it('drops a stored progress that is not well formed instead of answering it', async () => {
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { stepKey } = await import('../../layers/storage/src');
    await cloud.runtime.clients.documents.send(
      new UpdateCommand({
        TableName: cloud.runtime.config.tableName,
        Key: stepKey('tenant-a', id, 'manual-1'),
        UpdateExpression: 'SET progress = :p',
        ExpressionAttributeValues: { ':p': { epochs_done: 1, epochs_planned: 3, epochs: [{ epoch: 'one' }] } },
      }),
    );
    const status = await items.steps.get('tenant-a', id, 'manual-1');
    expect(status).not.toBeNull();
    expect(status!.progress).toBeUndefined();
  });
});
