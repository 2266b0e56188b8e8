import { PassThrough, Readable } from 'node:stream';
import { runServe } from '../../cli/commands/serve';
import type { CliIO } from '../../cli/command';

/** `ml-trainer serve` run in this process with captured output, and its stop. */
export interface RunningServe {
  url: string;
  stderr(): string;
  /** Stops it as Ctrl-C would; resolves to its exit code. */
  stop(): Promise<number>;
}

export function captureIO(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += String(c)));
  stderr.on('data', (c) => (err += String(c)));
  const io: CliIO = { stdout, stderr, stdin: Readable.from(['']), env };
  return { io, out: () => out, err: () => err };
}

/** Starts serve with these arguments (--json added) and waits for its URL; fails with its stderr if it exits first. */
export async function startServe(argv: string[]): Promise<RunningServe> {
  const { io, out, err } = captureIO();
  let stop!: () => void;
  const running = runServe([...argv, '--json'], io, new Promise<void>((resolve) => (stop = resolve)));
  let exitCode: number | null = null;
  running.then(
    (code) => (exitCode = code),
    () => (exitCode = 2),
  );
  while (!out().includes('\n')) {
    if (exitCode !== null) throw new Error(`serve exited with ${exitCode} before listening: ${err()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const line = out().split('\n')[0]!;
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    stderr: err,
    stop() {
      stop();
      return running;
    },
  };
}
