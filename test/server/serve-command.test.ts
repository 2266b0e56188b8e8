import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultStateDir, parseServeArgs, runServe, serveCommand } from '../../cli/commands/serve';
import { UsageError } from '../../cli/command';
import { FrameClient, http } from './harness';
import { captureIO } from '../cli/running-serve';

async function waitFor<T>(read: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ml-trainer serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ml-trainer-serve-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serves all interfaces over the persisted local runtime, prints the URLs as JSON, stops when told', async () => {
    const { io, out, err } = captureIO();
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = runServe(['--port', '0', '--trainer', 'formula', '--state-dir', join(dir, 'state'), '--json'], io, stopped);
    const line = await waitFor(() => (out().includes('\n') ? out().split('\n')[0] : undefined));
    const urls = JSON.parse(line);
    expect(urls).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), mcp: expect.stringContaining('/mcp/v1'), rest: expect.stringContaining('/v1'), trainer: 'formula', state_dir: join(dir, 'state') });
    expect((await http('GET', `${urls.url}/health`)).json).toEqual({ status: 'healthy' });

    const client = await FrameClient.connect(urls.openenv.ws);
    const reset = await client.reset({ task_id: 'easy_mnist' });
    const episodeId = reset.data.observation.metadata.episode_id;
    await client.callTool('configure_training');
    client.close();

    stop();
    expect(await running).toBe(0);
    expect(err()).toContain('stopping');

    // Restarted on the same state directory, the episode is still there.
    const second = captureIO();
    let stopAgain!: () => void;
    const again = runServe(['--port', '0', '--trainer', 'formula', '--data-dir-state', join(dir, 'state')], second.io, new Promise<void>((r) => (stopAgain = r)));
    const url = await waitFor(() => second.out().match(/serving on (http:\/\/\S+)/)?.[1]);
    expect((await http('GET', `${url}/v1/episodes/${episodeId}`)).json).toMatchObject({ episode_id: episodeId, step_count: 1 });
    stopAgain();
    expect(await again).toBe(0);
  });

  it('a state directory already in use is a clear error (exit 1), not a crash', async () => {
    const first = captureIO();
    let stop!: () => void;
    const running = runServe(['--port', '0', '--trainer', 'formula', '--state-dir', join(dir, 'busy')], first.io, new Promise<void>((r) => (stop = r)));
    await waitFor(() => (first.out().includes('serving on') ? true : undefined));
    const second = captureIO();
    expect(await runServe(['--port', '0', '--trainer', 'formula', '--state-dir', join(dir, 'busy')], second.io, Promise.resolve())).toBe(1);
    expect(second.err()).toContain('in use');
    stop();
    expect(await running).toBe(0);
  });

  it('parses its options; bad ones are usage errors', () => {
    expect(parseServeArgs([], { ML_TRAINER_HOME: '/srv/mlt' }).options).toEqual({
      host: '127.0.0.1',
      port: 8000,
      stateDir: '/srv/mlt/state',
      training: { 'data-dir': undefined, 'allow-unverified-data': undefined, trainer: undefined },
      log: false,
      access: { allowedHosts: [], allowedOrigins: [] },
    });
    expect(defaultStateDir({ XDG_DATA_HOME: '/xdg' })).toBe('/xdg/ml-trainer/state');
    expect(() => parseServeArgs(['--port', 'eighty'], {})).toThrow(UsageError);
    expect(() => parseServeArgs(['--port', '70000'], {})).toThrow(UsageError);
    expect(parseServeArgs([], { ML_TRAINER_PORT: '8123' }).options.port).toBe(8123);
    expect(parseServeArgs(['--port', '0'], { ML_TRAINER_PORT: '8123' }).options.port).toBe(0);
    expect(() => parseServeArgs([], { ML_TRAINER_PORT: 'x' })).toThrow(/ML_TRAINER_PORT must be an integer from 0 to 65535, got "x"/);
    expect(() => parseServeArgs(['--trainer', 'pytorch'], {})).toThrow(UsageError);
    expect(() => parseServeArgs(['--state-dir', 'a', '--data-dir-state', 'b'], {})).toThrow(UsageError);
    expect(parseServeArgs(['--workers', '3'], {}).options.workers).toBe(3);
    expect(() => parseServeArgs(['--workers', '0'], {})).toThrow(/--workers must be a whole number from 1 to 64/);
    expect(serveCommand.help).toContain('--workers <N>');
    expect(() => parseServeArgs(['--bogus'], {})).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }));
    expect(serveCommand.help).toContain('--state-dir');
    expect(serveCommand.name).toBe('serve');
  });
});
