import { nextStepAfter, SmokeFailure } from '../../cli/cloud-smoke-advice';
import { AgentEnvironmentError, RestEnvironment } from '../../layers/agent/src';

/**
 * The next step after a failed smoke check, from the error RestEnvironment raises for what the
 * API (or API Gateway in front of it) answered. Answers come from a scripted fetch.
 */

const URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/';

/** The error RestEnvironment raises for GET /v1/tasks when every attempt is answered `status` with `body`. */
async function errorFor(status: number, body: unknown, headers: Record<string, string> = {}): Promise<AgentEnvironmentError> {
  const api = new RestEnvironment({
    url: URL,
    apiKey: 'k',
    retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
    sleep: async () => {},
    fetch: (async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })) as typeof fetch,
  });
  try {
    await api.request({ method: 'GET', path: '/v1/tasks', finalErrorCodes: ['dataset_unavailable', 'episode_quota_exceeded'] });
  } catch (error) {
    if (error instanceof AgentEnvironmentError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('cloud smoke: the next step after a failed check', () => {
  it("API Gateway's own refusals: a key outside the usage plan, a path outside the stage", async () => {
    expect(nextStepAfter('tasks', await errorFor(403, { message: 'Forbidden' }), URL)).toBe(
      'the API key is not associated with the usage plan (or is wrong or disabled): see infra/README.md, Tenants',
    );
    expect(nextStepAfter('tasks', await errorFor(403, { message: 'Missing Authentication Token' }), URL)).toMatch(/^the URL does not lead to the API's routes: check --url: the ApiUrl output/);
    expect(nextStepAfter('train', await errorFor(504, { message: 'Endpoint request timed out' }), URL)).toMatch(/ran past 29 s\): read the api function's log group/);
  });

  it('the API refusing for now: the retries ran out, and the last answer still says why', async () => {
    const busy = await errorFor(503, { error: { code: 'training_busy', message: 'Every training worker is busy', details: {} } }, { 'retry-after': '0' });
    expect(busy.info).toMatchObject({ attempts: 2, status: 503, errorCode: 'training_busy' });
    expect(nextStepAfter('train', busy, URL)).toMatch(/^every training worker was busy: run the check again in a minute/);
    const throttled = await errorFor(429, { message: 'Too Many Requests' });
    expect(throttled.info.status).toBe(429);
    expect(nextStepAfter('tasks', throttled, URL)).toMatch(/^the usage plan's throttle or quota refused the requests: .*Tenants/);
  });

  it('a missing dataset, a used-up episode quota, a failed step', async () => {
    const missing = await errorFor(503, { error: { code: 'dataset_unavailable', message: 'mnist is not available', details: {} } });
    expect(nextStepAfter('train', missing, URL)).toMatch(/^upload the datasets: ml-trainer datasets upload --bucket <DatasetsBucketName output>/);
    const quota = await errorFor(429, { error: { code: 'episode_quota_exceeded', message: 'quota', details: {} } });
    expect(nextStepAfter('create episode', quota, URL)).toMatch(/^this tenant's monthly episode quota is used up/);
    const failed = await errorFor(500, { error: { code: 'internal_error', message: 'Internal server error', details: {} } });
    expect(nextStepAfter('train', failed, URL)).toMatch(/^read the training function's log group in CloudWatch Logs; if a dataset is missing/);
    expect(nextStepAfter('usage', failed, URL)).toBe("read the api function's log group in CloudWatch Logs");
  });

  it('nothing answers, or something that is not the API; a check that names its own next step', async () => {
    const unreachable = new RestEnvironment({
      url: URL,
      retry: { attempts: 1 },
      fetch: (async () => {
        throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
      }) as typeof fetch,
    });
    const error = await unreachable.request({ method: 'GET', path: '/v1/tasks' }).catch((e: AgentEnvironmentError) => e);
    expect(nextStepAfter('tasks', error as AgentEnvironmentError, URL)).toBe(
      'cannot reach https://abc123.execute-api.eu-west-1.amazonaws.com: check --url: the ApiUrl output of the api stack, with its stage (https://<id>.execute-api.<region>.amazonaws.com/prod/), and the network (proxy, VPN)',
    );
    expect(nextStepAfter('grade', new SmokeFailure('no grade', 'wait longer'), URL)).toBe('wait longer');
  });
});
