import { createServer as createHttpServer, type Server } from 'node:http';
import { RestEnvironment, unreachableServer } from '../../layers/agent/src';
import { runCli } from './cli-harness';
import { closedUrl } from './closed-url';

/** Issue 15, item 3: no server at --url answers at once, naming the URL and the command that starts one. */
describe('a server that cannot be reached', () => {
  it('agent --url at a closed port fails at once, naming the URL and how to start a server there', async () => {
    const url = await closedUrl();
    const r = await runCli(['agent', '--task', 'easy_mnist', '--policy', 'baseline', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('retrying');
    expect(r.stderr).toContain(`nothing listens at ${url} (connection refused, ECONNREFUSED)`);
    const port = new URL(url).port;
    expect(r.stderr).toContain(`start one with \`npx ml-trainer serve --port ${port}\` (or \`ML_TRAINER_PORT=${port} npm start\`) in another terminal, or play in-process without --url`);
  });

  it('report --server at a closed port says the same, with the way to do without it', async () => {
    const url = await closedUrl();
    const r = await runCli(['report', 'some-episode', '--server', url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`nothing listens at ${url}`);
    expect(r.stderr).toContain('ml-trainer serve');
    expect(r.stderr).toContain('leave out --server to read the local store');
  });

  it('a server that answered before is retried when it goes away (it may be restarting)', async () => {
    const server = await toolsServer();
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const retries: string[] = [];
    const environment = new RestEnvironment({ url, retry: { attempts: 2 }, sleep: async () => undefined, onRetry: (r) => retries.push(r.reason) });
    expect(await environment.listTools()).toHaveLength(1);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const error = await environment.listTools().catch((e: Error) => e);
    expect(retries).toHaveLength(1);
    expect(error).toMatchObject({ code: 'unavailable', message: expect.stringContaining(`GET /v1/tools at ${url} failed after 2 attempts: network error`) });
  });

  it.each([
    ['ENOTFOUND', 'http://no-such-host.invalid:8000', 'the host name no-such-host.invalid of http://no-such-host.invalid:8000 is not known (ENOTFOUND)', 'check the host name'],
    ['UND_ERR_CONNECT_TIMEOUT', 'http://10.1.2.3:8000', 'no answer from http://10.1.2.3:8000 (UND_ERR_CONNECT_TIMEOUT)', 'check the URL'],
    ['ECONNREFUSED', 'http://localhost:8000/', 'nothing listens at http://localhost:8000', 'start one with `npx ml-trainer serve` (or `npm start`)'],
    ['ECONNREFUSED', 'https://api.example.com', 'nothing listens at https://api.example.com', 'check the URL and that the server is up'],
  ])('%s from fetch names %s and the next step', (code, url, what, next) => {
    const failure = new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
    expect(unreachableServer(url, failure)).toEqual({ what: expect.stringContaining(what), next: expect.stringContaining(next) });
  });

  it('a connection reset or a request that timed out is not "unreachable": the server may be there, slow (retried as before)', () => {
    expect(unreachableServer('http://127.0.0.1:8000', new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }))).toBeNull();
    expect(unreachableServer('http://127.0.0.1:8000', new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBeNull();
  });
});

/** A server whose GET /v1/tools answers one tool. */
async function toolsServer(): Promise<Server> {
  const server = createHttpServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ tools: [{ name: 'submit_model', description: '', input_schema: { type: 'object' } }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
