import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DatasetError } from './dataset-error';

const gunzipAsync = promisify(gunzip);

/** The content of a dataset file, decompressed when it was gzip. */
export interface FileContent {
  path: string;
  bytes: Buffer;
  /** True when the file on disk was gzip (decided by its magic bytes, not its name). */
  wasGzip: boolean;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads a file and gunzips it when it starts with the gzip magic `1f 8b`.
 * `maxRawBytes` bounds the decompressed size so that a foreign or hostile file
 * cannot fill memory; `remedy` ends the error message (how to get a good copy).
 */
export async function readMaybeGzip(path: string, maxRawBytes: number, remedy: string): Promise<FileContent> {
  const stored = await readFile(path);
  if (!isGzip(stored)) return { path, bytes: stored, wasGzip: false };
  try {
    const bytes = await gunzipAsync(stored, { maxOutputLength: maxRawBytes + 1 });
    return { path, bytes, wasGzip: true };
  } catch (err) {
    throw new DatasetError('corrupt_file', `${path}: ${gzipProblem(err, maxRawBytes)}. ${remedy}`, path);
  }
}

function gzipProblem(err: unknown, maxRawBytes: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_BUFFER_TOO_LARGE') {
    return `expected at most ${maxRawBytes} bytes once decompressed, found more (not the expected file)`;
  }
  if (code === 'Z_BUF_ERROR') return 'the gzip data ends early (truncated file or interrupted download)';
  return `expected valid gzip data (the file starts with the gzip magic 1f 8b), found damaged data (${(err as Error).message})`;
}
