import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetUnavailableError } from '../../layers/core/src';
import { DatasetDownloads } from '../../layers/runtime/src';
import { fromWorkerError } from '../../layers/runtime/src/worker-trainer-factory';
import { toWorkerError } from '../../layers/runtime/src/trainer-worker';
import { startLoopbackServer, type LoopbackServer } from '../datasets/helpers/loopback-server';

describe('DatasetDownloads: one download per dataset at a time, none inside the backoff window', () => {
  let mirror: LoopbackServer;
  let dataDir: string;
  beforeAll(async () => {
    mirror = await startLoopbackServer();
    dataDir = mkdtempSync(join(tmpdir(), 'mlt-downloads-'));
  });
  afterAll(async () => {
    await mirror.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('concurrent callers share one attempt; later callers are refused at once until the window passes; one log line per failure', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const warnings: string[] = [];
    const downloads = new DatasetDownloads({ dataDir, baseUrl: `${mirror.baseUrl}/mnist/`, onWarning: (m) => warnings.push(m), backoff: { now: () => now } });

    const concurrent = await Promise.allSettled(Array.from({ length: 5 }, () => downloads.fetch('mnist', 'mnist: missing file')));
    const firstRequests = mirror.requests.length;
    expect(firstRequests).toBeGreaterThan(0);
    for (const outcome of concurrent) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as DatasetUnavailableError;
      expect(error).toBeInstanceOf(DatasetUnavailableError);
      expect(error.detail).toEqual({ dataset: 'mnist', data_dir: dataDir, next_attempt_at: '2026-01-01T00:00:30.000Z' });
    }

    now += 29_000;
    await expect(downloads.fetch('mnist', 'mnist: missing file')).rejects.toMatchObject({
      code: 'dataset_unavailable',
      message: expect.stringContaining('next download attempt is at 2026-01-01T00:00:30.000Z'),
    });
    expect(mirror.requests.length).toBe(firstRequests);

    now += 1_000;
    await expect(downloads.fetch('mnist', 'mnist: missing file')).rejects.toMatchObject({
      detail: { next_attempt_at: '2026-01-01T00:01:30.000Z' },
    });
    expect(mirror.requests.length).toBe(2 * firstRequests);
    expect(warnings.filter((w) => w.includes('could not be downloaded'))).toHaveLength(2);
  });

  it('crosses the worker process boundary as the same typed error', () => {
    const error = new DatasetUnavailableError('no mnist', { dataset: 'mnist', data_dir: '/d', next_attempt_at: null });
    const rebuilt = fromWorkerError(toWorkerError(error));
    expect(rebuilt).toBeInstanceOf(DatasetUnavailableError);
    expect([rebuilt.message, (rebuilt as DatasetUnavailableError).detail]).toEqual(['no mnist', error.detail]);
  });
});
