import { PassThrough, Readable } from 'node:stream';
import { main } from '../../cli/main';

/** Runs the CLI in-process with captured output. */
export async function runCli(argv: string[], stdin = '', env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([stdin]), env: { ...process.env, ...env } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
