import { RestEnvironment } from '../../layers/agent/src';
import { serverCost } from '../../cli/eval-server-cost';

/** A RestEnvironment whose requests a function answers, recording the URLs asked. */
function environmentAnswering(answer: (url: URL) => { status: number; body: unknown }) {
  const asked: URL[] = [];
  const environment = new RestEnvironment({
    url: 'https://api.example.test/prod',
    retry: { attempts: 1 },
    fetch: async (input) => {
      const url = new URL(String(input));
      asked.push(url);
      const { status, body } = answer(url);
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    },
  });
  return { environment, asked };
}

const from = new Date('2026-12-02T08:00:00.000Z');
const to = new Date('2026-12-02T09:00:00.000Z');

describe("eval's server cost (GET /v1/usage over the eval's window)", () => {
  it('asks for the window and divides the estimated cost by the tenant\'s episodes in it', async () => {
    const { environment, asked } = environmentAnswering(() => ({
      status: 200,
      body: { tenant: 't1', from: from.toISOString(), to: to.toISOString(), episodes: 4, by_status: {}, by_task: {}, usage: {}, prices: {}, estimated_cost: { episodes_usd: 0, lambda_compute_usd: 0.02, lambda_requests_usd: 0.0001, total_usd: 0.0201 } },
    }));
    expect(await serverCost(environment, from, to)).toEqual({ total_usd: 0.0201, episodes: 4, per_episode_usd: 0.0201 / 4, tenant: 't1' });
    expect(asked[0].pathname).toBe('/prod/v1/usage');
    expect(asked[0].searchParams.get('from')).toBe(from.toISOString());
    expect(asked[0].searchParams.get('to')).toBe(to.toISOString());
  });

  it('is null on a server without the route (the local server answers 404), or with no episodes in the window', async () => {
    expect(await serverCost(environmentAnswering(() => ({ status: 404, body: { error: { code: 'not_found', message: 'no route' } } })).environment, from, to)).toBeNull();
    expect(
      await serverCost(environmentAnswering(() => ({ status: 200, body: { tenant: 't1', episodes: 0, estimated_cost: { total_usd: 0 } } })).environment, from, to),
    ).toBeNull();
  });
});
