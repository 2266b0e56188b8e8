import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from '../../layers/datasets/src/dataset-error';
import { datasetTrainerFactory } from '../../layers/runtime/src/dataset-trainer-factory';
import { TrainerWorker } from '../../layers/runtime/src/worker-trainer-factory';
import * as tf from '@tensorflow/tfjs-node';
import { idxImages, idxLabels, tempDir } from '../datasets/helpers/tiny-datasets';
import { config } from '../training/trainer-helpers';

/**
 * The production worker entry (layers/runtime/src/trainer-worker-main.ts): dataset trainers
 * on MNIST files of the official sizes (synthetic pixels, so unverified), read in the worker.
 */
describe('dataset trainer worker', () => {
  const dir = tempDir('mlt-worker-data-');
  const spec = { taskId: 'easy_mnist', seed: 42 };
  const savedCacheHome = process.env.XDG_CACHE_HOME;
  beforeAll(() => {
    // Decoded subsets go to a temporary cache (this process's and the workers'), not the user's.
    process.env.XDG_CACHE_HOME = tempDir('mlt-worker-cache-');
    mkdirSync(join(dir, 'mnist'));
    writeFileSync(join(dir, 'mnist', 'train-images-idx3-ubyte'), idxImages(60_000));
    writeFileSync(join(dir, 'mnist', 'train-labels-idx1-ubyte'), idxLabels(60_000));
    writeFileSync(join(dir, 'mnist', 't10k-images-idx3-ubyte'), idxImages(10_000, 1));
    writeFileSync(join(dir, 'mnist', 't10k-labels-idx1-ubyte'), idxLabels(10_000, 1));
  });
  afterAll(() => {
    if (savedCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCacheHome;
  });

  it('trains the task\'s subset in the worker exactly as in this process', async () => {
    const warnings: string[] = [];
    const worker = new TrainerWorker({ threads: 1, dataset: { dataDir: dir, allowUnverified: true, autoFetch: false }, onWarning: (m) => warnings.push(m) });
    const here = datasetTrainerFactory({ dataDir: dir, allowUnverified: true, onWarning: () => undefined, inProcessOnly: true });
    try {
      const run = async (factory: typeof here) => {
        const trainer = await factory.create(spec);
        await trainer.buildModel(config({ batch_size: 256 }));
        const train = await trainer.trainEpoch(0.001);
        const val = await trainer.evaluate();
        trainer.dispose();
        return [train.loss, train.accuracy, val.loss, val.accuracy];
      };
      const [remote, local] = [await run(worker), await run(here)];
      expect(remote.every(Number.isFinite)).toBe(true);
      expect(remote).toEqual(local);
      expect(warnings.join('\n')).toMatch(/UNVERIFIED/);
    } finally {
      worker.close();
    }
  }, 60_000);

  it('trains concurrent MLP trainers in a pool of worker processes, and in this process with ML_TRAINER_WORKERS=off', async () => {
    // The MLP goes to the pool when this process's TensorFlow count (2 here) is not its 1.
    const saved = { threads: process.env.TF_NUM_INTRAOP_THREADS, workers: process.env.ML_TRAINER_WORKERS };
    process.env.TF_NUM_INTRAOP_THREADS = '2';
    const options = { dataDir: dir, allowUnverified: true, onWarning: () => undefined };
    const lossOf = async (trainer: Awaited<ReturnType<ReturnType<typeof datasetTrainerFactory>['create']>>) => {
      await trainer.buildModel(config({ batch_size: 256 }));
      const loss = (await trainer.trainEpoch(0.001)).loss;
      trainer.dispose();
      return loss;
    };
    try {
      const pooled = datasetTrainerFactory({ ...options, workers: 2 });
      // A model built here holds tensors in this process's TensorFlow; one built in a worker does not.
      const tensorsBefore = tf.memory().numTensors;
      const [a, b] = await Promise.all([pooled.create(spec), pooled.create({ ...spec, seed: 43 })]);
      const [lossA, lossB] = await Promise.all([lossOf(a), lossOf(b)]);
      expect(tf.memory().numTensors).toBe(tensorsBefore);

      process.env.ML_TRAINER_WORKERS = 'off';
      const here = await datasetTrainerFactory(options).create(spec);
      await here.buildModel(config({ batch_size: 256 }));
      expect(tf.memory().numTensors).toBeGreaterThan(tensorsBefore);
      expect((await here.trainEpoch(0.001)).loss).toBe(lossA);
      here.dispose();
      expect(lossB).not.toBe(lossA);
    } finally {
      for (const [name, value] of [['TF_NUM_INTRAOP_THREADS', saved.threads], ['ML_TRAINER_WORKERS', saved.workers]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }, 120_000);

  it('reports missing files from the worker as the dataset error they are', async () => {
    const empty = tempDir('mlt-worker-empty-');
    const worker = new TrainerWorker({ threads: 1, dataset: { dataDir: empty, allowUnverified: false, autoFetch: false }, onWarning: () => undefined });
    try {
      const trainer = await worker.create(spec);
      await trainer.buildModel(config());
      const failure = trainer.trainEpoch(0.001);
      await expect(failure).rejects.toBeInstanceOf(DatasetError);
      await expect(failure).rejects.toMatchObject({ code: 'missing_file' });
    } finally {
      worker.close();
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
