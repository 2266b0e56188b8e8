import Fastify, { type FastifyInstance } from 'fastify';
import { EpisodeServiceError, type DeferredStepService, type EpisodeCatalog, type PendingStep, type StepOutcome } from '../../layers/episodes/src';
import { restRoutes } from '../../layers/server/src/rest-routes';
import { http } from './harness';

/**
 * The REST layer renders a step's outcome and the service's refusals itself: a pending
 * step is 202 with Location and Retry-After, a quota refusal 429 with Retry-After until
 * the reset, busy training 503. Here over a stub service, with nothing of the cloud.
 */

const NOW = Date.parse('2030-06-30T23:59:50.000Z');
const PENDING: PendingStep = {
  step_id: 'req-1',
  status: 'pending',
  poll: '/v1/episodes/ep-1/steps/req-1',
  requested_at: '2030-06-30T23:59:50.000Z',
  deadline_at: '2030-07-01T01:15:50.000Z',
};

let next: () => StepOutcome;
const steps: DeferredStepService = {
  submitStep: async () => next(),
  pollStep: async () => next(),
};
const episodes: EpisodeCatalog = {
  createEpisode: async () => {
    throw new EpisodeServiceError('episode_quota_exceeded', 'Episode quota exceeded.', {
      limit: 2,
      used: 2,
      period: '2030-06',
      resets_at: '2030-07-01T00:00:00.000Z',
    });
  },
  getEpisode: async () => {
    throw new Error('not used');
  },
  listEpisodes: async () => {
    throw new Error('not used');
  },
};

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = Fastify();
  await app.register(async (scope) => restRoutes(scope, { service: episodes, steps, resolveTenant: () => 'tenant-a', bodyLimit: 65536, clock: () => new Date(NOW) }), {
    prefix: '/v1',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await app?.close();
});

describe('REST rendering of step outcomes', () => {
  it('answers a pending step with 202, the pending step as the body, Location and Retry-After', async () => {
    next = () => ({ kind: 'pending', pending: PENDING });
    const answer = await http('POST', `${base}/v1/episodes/ep-1/steps`, { tool: 'run_epochs', arguments: { num_epochs: 20 }, request_id: 'req-1' });
    expect(answer.status).toBe(202);
    expect(answer.json).toEqual(PENDING);
    expect(answer.headers.get('location')).toBe(PENDING.poll);
    expect(answer.headers.get('retry-after')).toBe('5');
  });

  it('answers a quota refusal with 429 and Retry-After in seconds until the quota resets', async () => {
    const answer = await http('POST', `${base}/v1/episodes`, { task_id: 'easy_mnist' });
    expect(answer.status).toBe(429);
    expect(answer.json.error).toMatchObject({ code: 'episode_quota_exceeded', details: { resets_at: '2030-07-01T00:00:00.000Z' } });
    expect(answer.headers.get('retry-after')).toBe('10');
  });

  it('answers busy training with 503 and a failed step with 500 step_failed, keeping their details', async () => {
    next = () => {
      throw new EpisodeServiceError('training_busy', 'Every training worker is busy.', { step_id: 'req-2' });
    };
    const busy = await http('POST', `${base}/v1/episodes/ep-1/steps`, { tool: 'get_training_status', request_id: 'req-2' });
    expect(busy.status).toBe(503);
    expect(busy.json.error).toEqual({ code: 'training_busy', message: 'Every training worker is busy.', details: { step_id: 'req-2' } });
    next = () => {
      throw new EpisodeServiceError('step_failed', 'The step failed.', { step_id: 'req-3', status: 'failed', reason: 'internal' });
    };
    const failed = await http('POST', `${base}/v1/episodes/ep-1/steps`, { tool: 'get_training_status', request_id: 'req-3' });
    expect(failed.status).toBe(500);
    expect(failed.json.error).toMatchObject({ code: 'step_failed', details: { reason: 'internal' } });
  });
});
