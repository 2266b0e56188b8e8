import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDatasetsUpload } from '../../cli/commands/datasets-upload';
import type { TrainerFactory } from '../../layers/core/src';
import type { DatasetCatalog } from '../../layers/datasets/src/dataset-catalog';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { captureIO } from '../datasets/helpers/capture-io';
import { tempDir, tinyCatalog, writeTinyIdx } from '../datasets/helpers/tiny-datasets';
import { tinyIdxTrainerFactory } from '../datasets/helpers/tiny-trainers';
import { startCloud, type Cloud } from './helpers';

/**
 * The real thing once: tiny MNIST files in the official IDX format (50 training and 10 test
 * images of 28×28, gzip-compressed) uploaded to s3rver by `ml-trainer datasets upload`,
 * synced by the training Lambda into its data directory, and trained on by the real
 * tfjs-node trainer. The official checksums cannot match such files, so the test injects a
 * catalog in which the tiny files are the official ones (tinyCatalog, the datasets layer's
 * test helper): verification is exercised for real, against those checksums. The tiny
 * split cannot hold the task's 4000/1000 subset, so the trainers read rows 0..39 for
 * training and 40..49 for validation (the one departure from datasetTrainerFactory).
 */

describe('real training through the Lambdas, on tiny official-format data in s3rver', () => {
  let runtime: LocalRuntime;
  let cloud: Cloud;
  let catalog: DatasetCatalog;
  let localData: string;
  let lambdaData: string;
  const counts = { factoryLoads: 0, create: 0, restore: 0 };

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    catalog = tinyCatalog();
    localData = tempDir('mlt-local-data-');
    lambdaData = tempDir('mlt-lambda-tmp-');
    writeTinyIdx(localData, 'mnist', true);
    const loadTrainerFactory = async ({ dataDir }: { dataDir: string }): Promise<TrainerFactory> => {
      counts.factoryLoads++;
      return tinyIdxTrainerFactory(dataDir, { catalog, calls: counts });
    };
    cloud = await startCloud({
      runtime,
      trainers: null,
      training: { catalog, loadTrainerFactory, env: { ML_TRAINER_DATA_DIR: lambdaData } },
      apiEnv: { SYNC_STEP_BUDGET_MS: '60000' },
    });
  });
  afterAll(async () => {
    await cloud?.close();
    await runtime?.close();
  });

  it('uploads the verified dataset files to the datasets bucket (multipart-capable, progress on stderr, idempotent)', async () => {
    const args = ['--bucket', runtime.config.dataBucket, '--endpoint', runtime.endpoints.s3, '--dataset', 'mnist', '--data-dir', localData, '--json'];
    const io = captureIO({});
    expect(await runDatasetsUpload(args, io, { catalog })).toBe(0);
    const uploaded = JSON.parse(io.out());
    expect(uploaded).toHaveLength(1);
    expect(uploaded[0]).toMatchObject({ dataset: 'mnist', bucket: runtime.config.dataBucket, verified: true });
    expect(uploaded[0].files.map((f: any) => [f.key, f.status]).sort()).toEqual(
      [
        ['mnist/t10k-images-idx3-ubyte.gz', 'uploaded'],
        ['mnist/t10k-labels-idx1-ubyte.gz', 'uploaded'],
        ['mnist/train-images-idx3-ubyte.gz', 'uploaded'],
        ['mnist/train-labels-idx1-ubyte.gz', 'uploaded'],
      ],
    );
    expect(io.err()).toMatch(/mnist: mnist\/train-images-idx3-ubyte\.gz 100%/);
    const listed = await runtime.data.listAll('mnist/');
    expect(listed.map((o) => o.key).sort()).toEqual(uploaded[0].files.map((f: any) => f.key).sort());
    const head = await runtime.data.head('mnist/train-images-idx3-ubyte.gz');
    expect(head?.metadata.sha256).toBe(uploaded[0].files.find((f: any) => f.key === 'mnist/train-images-idx3-ubyte.gz').sha256);

    const again = captureIO({});
    expect(await runDatasetsUpload(args, again, { catalog })).toBe(0);
    expect(JSON.parse(again.out())[0].files.every((f: any) => f.status === 'unchanged')).toBe(true);
  });

  it('refuses to upload a dataset that is not verified', async () => {
    const io = captureIO({});
    const code = await runDatasetsUpload(['--bucket', runtime.config.dataBucket, '--endpoint', runtime.endpoints.s3, '--dataset', 'fashion_mnist', '--data-dir', localData], io, { catalog });
    expect(code).toBe(1);
    expect(io.err()).toMatch(/fashion_mnist: not uploaded: not every file is verified/);
    expect(await runtime.data.listAll('fashion_mnist/')).toEqual([]);
  });

  let id: string;

  it('configures in the api (nothing loaded, nothing invoked); trains for real once the dataset is synced from S3, the model built first', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } });
    id = created.json.episode_id;
    const configured = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: { batch_size: 32, learning_rate: 0.01 } } });
    expect(configured.status).toBe(200);
    expect(configured.json.data).toMatchObject({ model_rebuilt: true });
    // The model is built by the next training step (the configuration waits on the item as a pending trainer call).
    expect(counts).toMatchObject({ factoryLoads: 0, create: 0 });
    expect(cloud.training.invocations).toHaveLength(0);
    expect(existsSync(join(lambdaData, 'mnist'))).toBe(false);

    const trained = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 2 } } });
    expect(trained.status).toBe(200);
    expect(trained.json.data).toMatchObject({ epochs_just_trained: 2, current_epoch: 2 });
    const observation = trained.json.data;
    for (const value of [observation.train_accuracy, observation.val_accuracy]) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    expect(Number.isFinite(observation.train_loss)).toBe(true);
    expect(counts).toMatchObject({ factoryLoads: 1, create: 1, restore: 0 });
    // Only what the loader needs: the two training files, verified against the catalog.
    expect(readdirSync(join(lambdaData, 'mnist')).sort()).toEqual(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
  });

  it('answers a status query and a submission in the api, without a trainer or a training invocation', async () => {
    const status = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'get_training_status' } });
    expect(status.status).toBe(200);
    const submitted = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'submit_model' } });
    expect(submitted.status).toBe(200);
    expect(submitted.json).toMatchObject({ done: true, step: 4 });
    expect(typeof submitted.json.grade.score).toBe('number');
    expect(counts).toMatchObject({ factoryLoads: 1, create: 1, restore: 0 });
    expect(cloud.training.invocations).toHaveLength(1);

    const episode = await cloud.api('GET', `/v1/episodes/${id}`);
    expect(episode.json).toMatchObject({ status: 'submitted', usage: { steps: 4, epochs_trained: 2 } });
    expect(episode.json.usage.training_seconds).toBeGreaterThan(0);
    const usage = await cloud.api('GET', '/v1/usage');
    // One training invocation (the run_epochs step), billed 250 ms at 10 GB.
    expect(usage.json.usage).toMatchObject({ steps: 4, epochs_trained: 2, lambda_requests: 1 });
    expect(usage.json.usage.lambda_gb_seconds).toBeCloseTo(2.5, 6);
  });

  it('answers a training step whose dataset is not in the bucket 503 dataset_unavailable, naming the upload, and commits nothing', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'medium_fashion' } });
    const episode = created.json.episode_id;
    expect((await cloud.api('POST', `/v1/episodes/${episode}/steps`, { body: { tool: 'configure_training', arguments: { batch_size: 32 } } })).status).toBe(200);
    const before = (await cloud.api('GET', `/v1/episodes/${episode}`)).json;
    const trained = await cloud.api('POST', `/v1/episodes/${episode}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 1 }, request_id: 'no-data-1' } });
    expect(trained.status).toBe(503);
    expect(trained.json.error).toMatchObject({
      code: 'dataset_unavailable',
      details: { dataset: 'fashion_mnist', data_dir: `s3://${runtime.config.dataBucket}/fashion_mnist/`, next_attempt_at: null },
    });
    expect(trained.json.error.message).toContain(`ml-trainer datasets upload --bucket ${runtime.config.dataBucket} --dataset fashion_mnist`);
    // The step by its id answers the same, and the episode is as it was: a later retry (after the upload) trains.
    const polled = await cloud.api('GET', `/v1/episodes/${episode}/steps/no-data-1`);
    expect({ status: polled.status, code: polled.json.error.code }).toEqual({ status: 503, code: 'dataset_unavailable' });
    const after = (await cloud.api('GET', `/v1/episodes/${episode}`)).json;
    expect(after.record).toEqual(before.record);
  });
});
