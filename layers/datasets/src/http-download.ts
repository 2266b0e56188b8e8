import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface DownloadedFile {
  bytes: number;
  md5: string;
}

export type ByteProgress = (receivedBytes: number, totalBytes: number | undefined) => void;

/**
 * Streams `url` into `path` (which the caller cleans up on failure), reporting bytes as
 * they arrive and computing the MD5 of what was received. Fails on a non-2xx status, on a
 * body shorter than its Content-Length, and when no data arrives for `idleTimeoutMs`.
 * Asks for `Accept-Encoding: identity` so that the bytes stored are the bytes published.
 */
export async function downloadToFile(url: string, path: string, onBytes: ByteProgress, idleTimeoutMs = 60_000): Promise<DownloadedFile> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const armTimer = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data received for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
  };
  armTimer();
  let received = 0;
  let total: number | undefined;
  try {
    const response = await request(url, controller.signal);
    total = contentLength(response);
    const md5 = createHash('md5');
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        md5.update(chunk);
        armTimer();
        onBytes(received, total);
        done(null, chunk);
      },
    });
    const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    await pipeline(body, meter, createWriteStream(path));
    if (total !== undefined && received !== total) throw new Error(cutShort(received, total));
    return { bytes: received, md5: md5.digest('hex') };
  } catch (err) {
    const reason = describeFailure(err, controller.signal);
    throw new Error(total !== undefined && received < total ? `${reason}: ${cutShort(received, total)}` : reason);
  } finally {
    clearTimeout(timer);
  }
}

async function request(url: string, signal: AbortSignal): Promise<Response> {
  const response = await fetch(url, { signal, redirect: 'follow', headers: { 'accept-encoding': 'identity' } });
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  }
  return response;
}

function cutShort(received: number, total: number): string {
  return `the transfer stopped after ${received} of ${total} bytes`;
}

function contentLength(response: Response): number | undefined {
  const header = response.headers.get('content-length');
  const value = header === null ? NaN : Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function describeFailure(err: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message;
  const error = err as Error & { cause?: { code?: string; message?: string } };
  const cause = error.cause?.code ?? error.cause?.message;
  return cause ? `${error.message} (${cause})` : error.message;
}
