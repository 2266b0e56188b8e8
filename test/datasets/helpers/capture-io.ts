import { PassThrough } from 'node:stream';
import type { CliIO } from '../../../cli/command';

export interface CapturedIO extends CliIO {
  out(): string;
  err(): string;
}

/** A CliIO whose stdout and stderr are collected as text. */
export function captureIO(env: NodeJS.ProcessEnv = {}): CapturedIO {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  return {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env,
    out: () => Buffer.concat(chunks.out).toString('utf8'),
    err: () => Buffer.concat(chunks.err).toString('utf8'),
  };
}
