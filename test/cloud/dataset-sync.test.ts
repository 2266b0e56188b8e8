import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackEndpoint, runDatasetsUpload, s3ClientConfig } from '../../cli/commands/datasets-upload';
import { S3DatasetSync } from '../../layers/cloud/src/dataset-sync';
import { CIFAR_PROVENANCE_FILE, writeCifarProvenance } from '../../layers/datasets/src/cifar-provenance';
import type { CifarDatasetSpec, DatasetCatalog } from '../../layers/datasets/src/dataset-catalog';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { captureIO } from '../datasets/helpers/capture-io';
import { cifarBatch, sha256, tempDir, tinyCatalog, writeTinyIdx } from '../datasets/helpers/tiny-datasets';

/**
 * `ml-trainer datasets upload` and the training Lambda's dataset sync against s3rver, with
 * CIFAR-10 batches large enough (5.5 MB each) to go up as multipart uploads, verified through
 * the extraction record as the local loader verifies them.
 */

const RECORDS = 1800; // × 3073 bytes = 5.5 MB per batch: two parts of ≥ 5 MiB each
const MD5 = 'ab'.repeat(16);

describe('datasets upload → S3 → training Lambda sync', () => {
  let runtime: LocalRuntime;
  let catalog: DatasetCatalog;
  let localData: string;

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    const tiny = tinyCatalog(MD5);
    catalog = { ...tiny, cifar10: { ...(tiny.cifar10 as CifarDatasetSpec), recordsPerBatch: RECORDS, trainCount: 5 * RECORDS } };
    localData = tempDir('mlt-upload-');
    const folder = join(localData, 'cifar10');
    const files: Record<string, { sha256: string; bytes: number }> = {};
    const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
    for (const [b, name] of names.entries()) {
      const bytes = cifarBatch(b * RECORDS, RECORDS, name === 'test_batch.bin' ? 5 : 0);
      require('node:fs').mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, name), bytes);
      files[name] = { sha256: sha256(bytes), bytes: bytes.length };
    }
    await writeCifarProvenance(folder, { archiveUrl: 'https://example.invalid/cifar-10-binary.tar.gz', archiveMd5: MD5, extractedAt: '2031-01-01T00:00:00.000Z', files });
    writeTinyIdx(localData, 'mnist', false);
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('decides the s3rver-safe client settings by the endpoint host', () => {
    expect(isLoopbackEndpoint('http://127.0.0.1:4569')).toBe(true);
    expect(isLoopbackEndpoint('http://localhost:9000')).toBe(true);
    expect(isLoopbackEndpoint('http://[::1]:9000')).toBe(true);
    expect(isLoopbackEndpoint('https://s3.eu-west-1.amazonaws.com')).toBe(false);
    expect(isLoopbackEndpoint('http://minio.internal:9000')).toBe(false);
    expect(s3ClientConfig('http://127.0.0.1:1', {})).toMatchObject({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', credentials: { accessKeyId: 'S3RVER' } });
    expect(s3ClientConfig('http://minio.internal:9000', {}, 'eu-west-1')).toEqual({ region: 'eu-west-1', endpoint: 'http://minio.internal:9000' });
    // No --region: none is set, the SDK resolves it (AWS_REGION, the profile's region; test/cli/datasets-upload-region.test.ts).
    expect(s3ClientConfig(undefined, { AWS_REGION: 'eu-west-1' })).toEqual({});
  });

  it('uploads CIFAR-10 batches in multipart uploads, with the extraction record, under a prefix', async () => {
    const io = captureIO({});
    const code = await runDatasetsUpload(
      ['--bucket', runtime.config.dataBucket, '--endpoint', runtime.endpoints.s3, '--dataset', 'all', '--data-dir', localData, '--prefix', 'v1', '--json'],
      io,
      { catalog, partSize: 5 * 1024 * 1024 },
    );
    // fashion_mnist is not there: refused (exit 1); the two others are uploaded.
    expect(code).toBe(1);
    const results = JSON.parse(io.out());
    expect(results.map((r: any) => [r.dataset, r.verified])).toEqual([
      ['mnist', true],
      ['fashion_mnist', false],
      ['cifar10', true],
    ]);
    const keys = (await runtime.data.listAll('v1/cifar10/')).map((o) => o.key).sort();
    expect(keys).toEqual([
      `v1/cifar10/${CIFAR_PROVENANCE_FILE}`,
      'v1/cifar10/data_batch_1.bin',
      'v1/cifar10/data_batch_2.bin',
      'v1/cifar10/data_batch_3.bin',
      'v1/cifar10/data_batch_4.bin',
      'v1/cifar10/data_batch_5.bin',
      'v1/cifar10/test_batch.bin',
    ]);
    // Byte-exact in the bucket (a streamed multipart upload to s3rver keeps no chunk framing).
    const stored = await runtime.data.get('v1/cifar10/data_batch_3.bin');
    expect(Buffer.from(stored!).equals(readFileSync(join(localData, 'cifar10', 'data_batch_3.bin')))).toBe(true);
    expect(io.err()).toMatch(/cifar10: v1\/cifar10\/data_batch_1\.bin 100% \(5\.5 MB \/ 5\.5 MB\)/);
  });

  it('syncs only the training files a task needs, verified, once per container', async () => {
    const dataDir = tempDir('mlt-lambda-');
    const events: string[] = [];
    const sync = new S3DatasetSync({ blobs: runtime.data, prefix: 'v1', dataDir, catalog, onProgress: (e) => events.push(e.stage) });
    const first = await sync.ensure('cifar10');
    expect(first.downloaded).toHaveLength(6);
    expect(readdirSync(join(dataDir, 'cifar10')).sort()).toEqual([CIFAR_PROVENANCE_FILE, 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin']);
    expect(events.filter((e) => e === 'verified')).toHaveLength(5);
    expect(await sync.ensure('cifar10')).toBe(first); // memoised: no second look at the bucket
    // A new container finds the files on its disk and downloads nothing.
    const again = new S3DatasetSync({ blobs: runtime.data, prefix: 'v1/', dataDir, catalog });
    expect((await again.ensure('cifar10')).downloaded).toEqual([]);
    expect((await again.ensure('mnist')).downloaded.map((p) => p.split('/').pop()).sort()).toEqual(['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']);
  });

  it('refuses (and removes) a file that does not verify, and recovers once a good copy is uploaded', async () => {
    const dataDir = tempDir('mlt-lambda-bad-');
    const good = readFileSync(join(localData, 'mnist', 'train-labels-idx1-ubyte'));
    const bad = Buffer.from(good);
    bad[20] = (bad[20]! + 1) % 10;
    await runtime.data.put('v1/mnist/train-labels-idx1-ubyte', bad);
    const sync = new S3DatasetSync({ blobs: runtime.data, prefix: 'v1', dataDir, catalog });
    await expect(sync.ensure('mnist')).rejects.toMatchObject({ code: 'checksum_mismatch' });
    expect(existsSync(join(dataDir, 'mnist', 'train-labels-idx1-ubyte'))).toBe(false);
    expect(existsSync(join(dataDir, 'mnist', 'train-images-idx3-ubyte'))).toBe(false);
    await runtime.data.put('v1/mnist/train-labels-idx1-ubyte', good);
    expect((await sync.ensure('mnist')).downloaded).toHaveLength(2);
  });

  it('says how to upload a dataset that is not in the bucket', async () => {
    const sync = new S3DatasetSync({ blobs: runtime.data, dataDir: tempDir('mlt-lambda-none-'), catalog });
    await expect(sync.ensure('fashion_mnist')).rejects.toThrow(/ml-trainer datasets upload --bucket ml-trainer-data --dataset fashion_mnist/);
  });
});
