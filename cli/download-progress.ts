import type { FetchProgress } from '../layers/datasets/src';

/** Progress lines on stderr: each download at every 10% (or every 10 MB when the size is unknown). */
export function downloadProgressPrinter(stream: NodeJS.WritableStream): (event: FetchProgress) => void {
  const lastStep = new Map<string, number>();
  return (event) => {
    if (event.stage === 'download') {
      const step = event.totalBytes ? Math.floor((10 * event.receivedBytes) / event.totalBytes) : Math.floor(event.receivedBytes / 10e6);
      if (lastStep.get(event.url) === step) return;
      lastStep.set(event.url, step);
      const percent = event.totalBytes ? ` ${Math.floor((100 * event.receivedBytes) / event.totalBytes)}%` : '';
      const total = event.totalBytes ? ` / ${megabytes(event.totalBytes)}` : '';
      stream.write(`${event.dataset}: ${event.url}${percent} (${megabytes(event.receivedBytes)}${total})\n`);
    } else if (event.stage === 'mirror-failed') {
      stream.write(`${event.dataset}: ${event.url} failed: ${event.reason}\n`);
    } else {
      stream.write(`${event.dataset}: ${event.file} ${event.stage === 'present' ? 'already present and verified' : 'verified'}\n`);
    }
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
