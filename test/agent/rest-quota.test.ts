import { createServer, type Server } from 'node:http';
import { AgentEnvironmentError, RestEnvironment } from '../../layers/agent/src';

describe('RestEnvironment and the episode quota', () => {
  let server: Server;
  let url: string;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3600' });
      res.end(JSON.stringify({ error: { code: 'episode_quota_exceeded', message: 'Monthly episode quota of 3 used up.', details: { limit: 3, used: 3 } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('stops at once when the quota is used up, instead of retrying a 429', async () => {
    const environment = new RestEnvironment({ url, sleep: async () => undefined });
    const failure = await environment.startEpisode({ taskId: 'easy_mnist' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AgentEnvironmentError);
    expect((failure as Error).message).toContain('episode_quota_exceeded');
    expect(requests).toBe(1);
  });
});
