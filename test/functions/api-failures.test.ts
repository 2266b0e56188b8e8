import { createApiHandler } from '../../functions/api/handler';
import { InProcessInvoker, lambdaContext, type TrainingInvoker } from '../../layers/cloud/src/invokers';
import type { TrainingStepEvent } from '../../layers/cloud/src/training-protocol';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { apiGatewayEvent } from './helpers';

/** What the api answers when the training Lambda cannot run a synchronous step. */

describe('api Lambda: training failures', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startLocalRuntime();
  });
  afterAll(async () => {
    await runtime?.close();
  });

  async function withTraining(training: TrainingInvoker) {
    const handler = createApiHandler({ storage: runtime, training, grade: null, env: {} });
    const call = async (method: string, path: string, body?: unknown) => {
      const raw = await handler(apiGatewayEvent(method, path, { body }), lambdaContext({ functionName: 'api', timeoutMs: 29_000 }));
      return { status: raw.statusCode, headers: (raw.headers ?? {}) as Record<string, string>, json: JSON.parse(raw.body) };
    };
    const created = await call('POST', '/v1/episodes', { task_id: 'easy_mnist' });
    const id = created.json.episode_id as string;
    // Configured in the api Lambda: only a step that trains reaches the training function.
    expect((await call('POST', `/v1/episodes/${id}/steps`, { tool: 'configure_training', arguments: {} })).status).toBe(200);
    return { call, id };
  }

  it('answers 500 internal_error, without internals, when the training function fails', async () => {
    const failing = new InProcessInvoker(async () => {
      throw new Error('Runtime.OutOfMemory: secret internals');
    });
    const { call, id } = await withTraining(failing);
    const answer = await call('POST', `/v1/episodes/${id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 1 } });
    expect(answer.status).toBe(500);
    expect(answer.json.error.code).toBe('internal_error');
    expect(JSON.stringify(answer.json)).not.toContain('secret');
  });

  it('answers 503 training_busy when the training function is throttled (nothing ran)', async () => {
    const throttled: TrainingInvoker = {
      async invokeSync(_event: TrainingStepEvent) {
        throw Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException' });
      },
      async invokeAsync() {
        throw new Error('not used');
      },
    };
    const { call, id } = await withTraining(throttled);
    const answer = await call('POST', `/v1/episodes/${id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 1 }, request_id: 'r-1' });
    expect(answer.status).toBe(503);
    expect(answer.json.error).toMatchObject({ code: 'training_busy', details: { step_id: 'r-1', reason: 'throttled' } });
    expect(answer.headers['retry-after']).toBe('5');
  });
});
