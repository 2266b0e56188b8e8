import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeArgs, runServe } from '../../cli/commands/serve';
import { describeStartFailure } from '../../cli/serve-start-failure';
import { runCli } from '../cli/cli-harness';
import { captureIO, startServe } from '../cli/running-serve';

/** Issue 15, item 3: a port or state directory serve cannot use says what was tried and the next command, exit 1, no stack. */
describe('ml-trainer serve cannot start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ml-trainer-serve-failure-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function serveFails(argv: string[]): Promise<string> {
    const { io, err } = captureIO();
    expect(await runServe(['--trainer', 'formula', ...argv], io, Promise.resolve())).toBe(1);
    expect(err()).not.toMatch(/^\s+at /m);
    return err();
  }

  it('a port an ml-trainer server holds: says so and how to use it; the same for its state directory', async () => {
    const first = await startServe(['--port', '0', '--trainer', 'formula', '--state-dir', join(dir, 'first')]);
    try {
      const port = new URL(first.url).port;
      const samePort = await serveFails(['--port', port, '--state-dir', join(dir, 'second')]);
      expect(samePort).toContain(`127.0.0.1:${port} is taken: an ml-trainer server (version `);
      expect(samePort).toContain(`\`--url ${first.url}\``);
      expect(samePort).toContain('`--port 0` (a free one)');
      expect(samePort).not.toContain('EADDRINUSE: address already in use');

      const sameDir = await serveFails(['--port', '0', '--state-dir', join(dir, 'first')]);
      expect(sameDir).toContain(`is in use by the ml-trainer server already running at ${first.url} (process ${process.pid})`);
      expect(sameDir).toContain('another `--state-dir`');
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  it('a port another program holds: says so and how to pick another', async () => {
    // It accepts connections and never answers (the probe gives up after its timeout).
    const connections = new Set<Socket>();
    const other: Server = createServer((socket) => connections.add(socket));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as { port: number }).port;
      const message = await serveFails(['--port', String(port), '--state-dir', join(dir, 'other')]);
      expect(message).toContain(`127.0.0.1:${port} is taken by another program (EADDRINUSE)`);
      expect(message).toContain('`--port 0` (a free one) or `--port N` (with npm start: `ML_TRAINER_PORT=N npm start`)');
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('an address that is not this machine\'s: names it and the next step', async () => {
    const message = await serveFails(['--host', '192.0.2.1', '--allow-host', 'example.test', '--port', '0', '--state-dir', join(dir, 'addr')]);
    expect(message).toContain('cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL)');
    expect(message).toContain('`--host 127.0.0.1`');
  });

  it('a privileged port (EACCES, seen only without root): names the port and a usable one', async () => {
    const denied = Object.assign(new Error('listen EACCES: permission denied 127.0.0.1:80'), { code: 'EACCES' });
    const message = await describeStartFailure(denied, { host: '127.0.0.1', port: 80, stateDir: dir, localUrl: 'http://127.0.0.1:80' });
    expect(message).toContain('no permission to listen on 127.0.0.1:80 (EACCES): ports below 1024 need privileges');
    expect(message).toContain('`--port 8000`');
  });

  it('`npm start --port 8001` (npm keeps --port, passes 8001 on): says to put -- before it', async () => {
    const hint = 'npm took --port for itself: run `npm start -- --port 8001` (or `ML_TRAINER_PORT=8001 npm start`)';
    // What npm 10/11 passes for `npm start --port 8001` and for `npm start --port=8001`.
    expect(() => parseServeArgs(['8001'], { npm_config_port: 'true' })).toThrow(hint);
    expect(() => parseServeArgs([], { npm_config_port: '8001' })).toThrow(hint);
    expect(parseServeArgs(['--port', '8001'], { npm_config_port: '8001' }).options.port).toBe(8001);
    expect(() => parseServeArgs(['8001'], {})).toThrow('the port is an option: `ml-trainer serve --port 8001`');
    expect(() => parseServeArgs(['extra'], {})).toThrow('serve takes no arguments, only options; got "extra"');
    const r = await runCli(['serve', '8001'], '', { npm_config_port: 'true' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(hint);
  });
});
