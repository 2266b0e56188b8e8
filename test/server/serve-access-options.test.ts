import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { UsageError, type CliIO } from '../../cli/command';
import { parseServeArgs, runServe, serveCommand, serveUrls } from '../../cli/commands/serve';
import { rawRequest } from './raw-request';

/** ml-trainer serve's --allow-host, --allow-origin and session limits (issue 12 items 2 and 6). */

const access = (argv: string[]) => parseServeArgs(argv, {}).options.access;

describe('ml-trainer serve access options', () => {
  it('are listed by --help', () => {
    for (const flag of ['--allow-host', '--allow-origin', '--max-sessions ', '--max-sessions-per-tenant', '--session-idle-minutes']) {
      expect(serveCommand.help).toContain(flag);
    }
  });

  it('parse into ServerOptions (repeatable hosts and origins; limits; idle minutes as ms)', () => {
    expect(access([])).toEqual({ allowedHosts: [], allowedOrigins: [] });
    expect(
      access([
        '--allow-host', 'mybox.lan',
        '--allow-host', '192.168.1.5:8000',
        '--allow-origin', 'https://app.example.com',
        '--max-sessions', '50',
        '--max-sessions-per-tenant', '4',
        '--session-idle-minutes', '5',
      ]),
    ).toEqual({
      allowedHosts: ['mybox.lan', '192.168.1.5:8000'],
      allowedOrigins: ['https://app.example.com'],
      maxSessions: 50,
      maxSessionsPerTenant: 4,
      sessionIdleMs: 300_000,
    });
  });

  it('refuse what is not a host, an origin or a count, naming the flag', () => {
    for (const argv of [
      ['--allow-host', 'http://mybox.lan/'],
      ['--allow-host', 'a b'],
      ['--allow-origin', 'app.example.com'],
      ['--allow-origin', 'https://app.example.com/path'],
      ['--allow-origin', 'null'],
      ['--max-sessions', '0'],
      ['--max-sessions-per-tenant', 'many'],
      ['--session-idle-minutes', '1.5'],
    ]) {
      expect(() => access(argv)).toThrow(UsageError);
      expect(() => access(argv)).toThrow(argv[0]);
    }
  });

  it('a --host other than loopback needs --allow-host, and the error says so', () => {
    expect(() => access(['--host', '0.0.0.0'])).toThrow(/--allow-host/);
    expect(() => access(['--host', '192.168.1.5'])).toThrow(/--allow-host/);
    expect(access(['--host', '0.0.0.0', '--allow-host', 'mybox.lan']).allowedHosts).toEqual(['mybox.lan']);
    for (const loopback of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) expect(access(['--host', loopback]).allowedHosts).toEqual([]);
  });
});

describe('ml-trainer serve --allow-host', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ml-trainer-serve-access-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the running server answers the named host and refuses others', async () => {
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c) => (out += String(c)));
    const io: CliIO = { stdout, stderr: new PassThrough(), stdin: Readable.from(['']), env: {} };
    let stop!: () => void;
    const running = runServe(['--port', '0', '--trainer', 'formula', '--state-dir', join(dir, 'state'), '--json', '--allow-host', 'mybox.lan'], io, new Promise<void>((r) => (stop = r)));
    for (let waited = 0; !out.includes('\n') && waited < 30_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const port = Number(new URL(JSON.parse(out.split('\n')[0]!).url).port);
    expect((await rawRequest(port, { path: '/health', headers: { host: `mybox.lan:${port}` } })).status).toBe(200);
    expect((await rawRequest(port, { path: '/health', headers: { host: `127.0.0.1:${port}` } })).status).toBe(200);
    expect((await rawRequest(port, { path: '/health', headers: { host: `other.lan:${port}` } })).status).toBe(403);
    stop();
    expect(await running).toBe(0);
  });

  it('the banner shows a name clients can use: a wildcard bind address is replaced by the first allowed host', () => {
    expect(serveUrls('0.0.0.0', 8123, ['mybox.lan:9000', 'other.lan']).url).toBe('http://mybox.lan:8123');
    expect(serveUrls('::', 8123, ['[fd00::1]']).openenv.ws).toBe('ws://[fd00::1]:8123/ws');
    expect(serveUrls('127.0.0.1', 8123, []).rest).toBe('http://127.0.0.1:8123/v1');
    expect(serveUrls('::1', 8123, []).url).toBe('http://[::1]:8123');
  });
});
