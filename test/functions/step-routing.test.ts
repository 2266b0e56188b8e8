import type { TrainingInvoker } from '../../layers/cloud/src/invokers';
import type { TrainingStepEvent } from '../../layers/cloud/src/training-protocol';
import { gatedFactory, startCloud, testClock, type Cloud } from './helpers';

/**
 * Which function executes a step: only a run_epochs that trains goes to the training
 * Lambda; every other call (status, configuration, learning rate, augmentation, submission,
 * rejected calls) executes and commits in the api Lambda, so a long hard_cifar step never
 * delays them and costs them no training invocation.
 */

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

const ASYNC_ENV = { SYNC_STEP_BUDGET_MS: '5000', STEP_SECONDS_PER_EPOCH: 'hard_cifar=30', STEP_OVERHEAD_MS: '1000', STEP_DATA_LOAD_MS: '0' };

describe('steps that need no training data execute in the api Lambda', () => {
  const gate = gatedFactory();
  let cloud: Cloud;

  beforeAll(async () => {
    cloud = await startCloud({ trainers: gate.factory, apiEnv: ASYNC_ENV });
  });
  afterAll(async () => {
    gate.open();
    await cloud?.close();
  });

  it('answers configure, status, learning rate, augmentation, rejected calls and submit without invoking the training Lambda or building a trainer', async () => {
    const id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'hard_cifar' } })).json.episode_id;
    const step = (body: unknown) => cloud.api('POST', `/v1/episodes/${id}/steps`, { body });
    const answers = [
      await step({ tool: 'run_epochs', arguments: { num_epochs: 3 } }), // rejected: not configured
      await step({ tool: 'configure_training', arguments: { optimizer: 'sgd', learning_rate: 0.05 } }),
      await step({ tool: 'get_training_status' }),
      await step({ tool: 'adjust_learning_rate', arguments: { new_lr: 0.01 } }),
      await step({ tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3 } }),
      await step({ tool: 'no_such_tool' }),
      await step({ tool: 'run_epochs', arguments: { num_epochs: 'many' } }), // rejected: invalid arguments
      await step({ tool: 'submit_model' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([409, 200, 200, 200, 200, 422, 422, 200]); // tool errors are committed steps too
    expect(answers[0]!.json.error.code).toBe('not_configured');
    expect(answers[7]!.json.done).toBe(true);
    expect(cloud.training.invocations).toHaveLength(0);
    expect(gate.counts).toMatchObject({ create: 0, restore: 0, trainEpoch: 0 });

    const stored = await cloud.runtime.episodes.get('tenant-a', id);
    expect(stored!.record.step_count).toBe(8);
    expect(stored!.checkpoint).toBeNull();
    expect(stored!.trainer_ops).toEqual([
      { op: 'build_model', config: expect.objectContaining({ optimizer: 'sgd', learning_rate: 0.05 }) },
      { op: 'set_augmentation', enabled: true, strength: 0.3 },
    ]);
    // The ended episode was handed to the grade Lambda by the api, as after a training step.
    await cloud.grade.drain();
    expect(cloud.grade.invocations).toHaveLength(1);
  });
});

describe('a status call during a running 20-epoch hard_cifar step', () => {
  const gate = gatedFactory();
  const clock = testClock(Date.parse('2031-05-06T07:00:00.000Z'));
  let cloud: Cloud;
  let id: string;
  const post = (body: unknown) => cloud.api('POST', `/v1/episodes/${id}/steps`, { body });

  beforeAll(async () => {
    cloud = await startCloud({ trainers: gate.factory, clock, queueAsync: true, apiEnv: ASYNC_ENV });
    id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'hard_cifar' } })).json.episode_id;
    expect((await post({ tool: 'configure_training', arguments: {} })).status).toBe(200);
  });
  afterAll(async () => {
    gate.open();
    await cloud?.queue?.release();
    await cloud?.close();
  });

  it('while the step is queued for the training Lambda: the status is a step of its own, executed in the api', async () => {
    const accepted = await post({ tool: 'run_epochs', arguments: { num_epochs: 20 }, request_id: 'hard-20' });
    expect(accepted.status).toBe(202);
    expect(cloud.queue!.queued).toHaveLength(1);
    const invoked = cloud.training.invocations.length;

    const status = await post({ tool: 'get_training_status', request_id: 'status-while-queued' });
    expect(status.status).toBe(200);
    expect(status.json.observation ?? status.json).toBeDefined();
    expect(cloud.training.invocations).toHaveLength(invoked);
    expect((await cloud.runtime.episodes.get('tenant-a', id))!.record.step_count).toBe(2);
  });

  it('while the step holds the episode: the status answers 409 episode_busy at once from the api, naming the running step', async () => {
    await cloud.queue!.release();
    await until(() => gate.counts.trainEpoch >= 1, 'the 20-epoch step to start training');
    const invoked = cloud.training.invocations.length;

    const busy = await post({ tool: 'get_training_status', request_id: 'status-while-running' });
    expect(busy.status).toBe(409);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json.error).toMatchObject({
      code: 'episode_busy',
      details: { running_step_id: 'hard-20', poll: `/v1/episodes/${id}/steps/hard-20` },
    });
    // Neither invoked nor committed; the episode's last committed state is readable without taking a step.
    expect(cloud.training.invocations).toHaveLength(invoked);
    const read = await cloud.api('GET', `/v1/episodes/${id}`);
    expect(read.status).toBe(200);
    expect((await cloud.runtime.episodes.get('tenant-a', id))!.record.step_count).toBe(2);

    // Another episode's quick steps are not held up at all.
    const other = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'hard_cifar' } })).json.episode_id;
    const quick = await cloud.api('POST', `/v1/episodes/${other}/steps`, { body: { tool: 'get_training_status' } });
    expect(quick.status).toBe(200);
    expect(cloud.training.invocations).toHaveLength(invoked);
  });

  it('once the step committed, the same status request executes (it was never stored) and the trainer calls were replayed before training', async () => {
    gate.open();
    await cloud.training.drain();
    const done = await cloud.api('GET', `/v1/episodes/${id}/steps/hard-20`);
    expect(done.status).toBe(200);
    expect(done.json.data.epochs_just_trained).toBe(20);
    const status = await post({ tool: 'get_training_status', request_id: 'status-while-running' });
    expect(status.status).toBe(200);
    const stored = await cloud.runtime.episodes.get('tenant-a', id);
    expect(stored!.record.step_count).toBe(4);
    expect(stored!.trainer_ops).toBeUndefined();
    expect(stored!.checkpoint).not.toBeNull();
    expect(gate.counts.create).toBe(1);
  });
});

describe('an asynchronous invoke that Lambda refuses', () => {
  const gate = gatedFactory();
  const clock = testClock(Date.parse('2031-05-06T07:00:00.000Z'));
  let refuse: Error | null = null;
  let cloud: Cloud;
  let id: string;

  beforeAll(async () => {
    cloud = await startCloud({
      trainers: gate.factory,
      clock,
      apiEnv: ASYNC_ENV,
      wrapTraining: (inner): TrainingInvoker => ({
        invokeSync: (event, options) => inner.invokeSync(event, options),
        async invokeAsync(event: TrainingStepEvent) {
          if (refuse) throw refuse;
          return inner.invokeAsync(event);
        },
      }),
    });
    id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'hard_cifar' } })).json.episode_id;
    await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: {} } });
  });
  afterAll(async () => {
    gate.open();
    await cloud?.close();
  });

  it('leaves no pending step and answers 503 training_busy with Retry-After and the reason; the same request then runs', async () => {
    refuse = Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    const refused = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 20 }, request_id: 'long' } });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json.error).toMatchObject({ code: 'training_busy', details: { step_id: 'long', reason: 'throttled' } });
    // Nothing is recorded as pending: the step is unknown, not "pending" until its deadline.
    expect((await cloud.api('GET', `/v1/episodes/${id}/steps/long`)).status).toBe(404);

    refuse = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    const denied = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 20 }, request_id: 'long' } });
    expect(denied.status).toBe(503);
    expect(denied.json.error.details.reason).toBe('invoke_refused');
    expect(denied.json.error.message).toContain('AccessDeniedException');
    expect((await cloud.api('GET', `/v1/episodes/${id}/steps/long`)).status).toBe(404);

    refuse = null;
    const accepted = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 20 }, request_id: 'long' } });
    expect(accepted.status).toBe(202);
    gate.open();
    await cloud.training.drain();
    const done = await cloud.api('GET', `/v1/episodes/${id}/steps/long`);
    expect(done.status).toBe(200);
    expect(done.json.data.epochs_just_trained).toBe(20);
  });
});

describe('the synchronous wait is sized to API Gateway’s 29 s, counted from when the request reached it', () => {
  const gate = gatedFactory();
  let cloud: Cloud;
  let id: string;

  beforeAll(async () => {
    cloud = await startCloud({ trainers: gate.factory, apiEnv: { SYNC_STEP_BUDGET_MS: '20000', STEP_SECONDS_PER_EPOCH: 'easy_mnist=1' } });
    id = (await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } })).json.episode_id;
    await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: {} } });
  });
  afterAll(async () => {
    gate.open();
    await cloud?.close();
  });

  it('a request that spent 27 s before the api ran (a cold start, a slow client) stops waiting at once and answers 202, though the Lambda has 29 s left', async () => {
    const answer = await cloud.api('POST', `/v1/episodes/${id}/steps`, {
      body: { tool: 'run_epochs', arguments: { num_epochs: 1 }, request_id: 'late' },
      timeoutMs: 29_000,
      requestTimeEpoch: Date.now() - 27_000,
    });
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({ step_id: 'late', status: 'pending' });
    expect(cloud.training.invocations).toHaveLength(1);
    gate.open();
    await cloud.training.drain();
    expect((await cloud.api('GET', `/v1/episodes/${id}/steps/late`)).status).toBe(200);
  });
});
