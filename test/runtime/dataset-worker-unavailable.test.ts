import { rmSync } from 'node:fs';
import { DatasetUnavailableError } from '../../layers/core/src';
import { TrainerWorker } from '../../layers/runtime/src';
import { startLoopbackServer, type LoopbackServer } from '../datasets/helpers/loopback-server';
import { tempDir } from '../datasets/helpers/tiny-datasets';
import { config } from '../training/trainer-helpers';

/**
 * The default path of `ml-trainer serve`: a task whose thread count differs from the
 * server's trains in a worker process, which downloads a missing dataset itself. A failed
 * download reaches the parent as the typed DatasetUnavailableError, once per backoff window.
 */
describe('a trainer worker without its dataset', () => {
  let mirror: LoopbackServer;
  beforeAll(async () => {
    mirror = await startLoopbackServer();
  });
  afterAll(() => mirror.close());

  it('rejects training with DatasetUnavailableError (folder, next attempt) and does not download again inside the window', async () => {
    const empty = tempDir('mlt-worker-nodata-');
    const warnings: string[] = [];
    const worker = new TrainerWorker({
      threads: 1,
      dataset: { dataDir: empty, allowUnverified: false, autoFetch: true, fetchBaseUrl: `${mirror.baseUrl}/mnist/` },
      onWarning: (m) => warnings.push(m),
    });
    try {
      const trainer = await worker.create({ taskId: 'easy_mnist', seed: 42 });
      await trainer.buildModel(config());
      const first = trainer.trainEpoch(0.001);
      await expect(first).rejects.toBeInstanceOf(DatasetUnavailableError);
      await expect(first).rejects.toMatchObject({ code: 'dataset_unavailable', detail: { dataset: 'mnist', data_dir: empty } });
      const requests = mirror.requests.length;
      expect(requests).toBeGreaterThan(0);

      await expect(trainer.trainEpoch(0.001)).rejects.toMatchObject({ code: 'dataset_unavailable' });
      expect(mirror.requests.length).toBe(requests);
      expect(warnings.filter((w) => w.includes('could not be downloaded'))).toHaveLength(1);
    } finally {
      worker.close();
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
