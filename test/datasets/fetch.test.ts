import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CIFAR_PROVENANCE_FILE } from '../../layers/datasets/src/cifar-provenance';
import { fetchDataset, FetchProgress } from '../../layers/datasets/src/fetch';
import { loadTaskData } from '../../layers/datasets/src/task-data-loader';
import { LoopbackServer, startLoopbackServer } from './helpers/loopback-server';
import { idxImages, md5, tempDir, tinyCatalog, tinyCifarArchive, tinyCifarFiles, tinyIdxFiles } from './helpers/tiny-datasets';

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.routes.clear();
  server.requests.length = 0;
});

function serveTinyMnist(prefix = '/mnist'): void {
  for (const [name, bytes] of Object.entries(tinyIdxFiles(0))) server.routes.set(`${prefix}/${name}.gz`, { body: gzipSync(bytes) });
}

async function fetchTiny(options: Partial<Parameters<typeof fetchDataset>[0]> & { dataDir: string }) {
  const events: FetchProgress[] = [];
  const result = await fetchDataset({
    dataset: 'mnist',
    baseUrl: `${server.baseUrl}/mnist/`,
    catalog: tinyCatalog(),
    onProgress: (event) => events.push(event),
    ...options,
  });
  return { result, events };
}

describe('fetchDataset: MNIST-like files over HTTP (loopback)', () => {
  it('downloads, verifies and stores the four files, reporting bytes as they arrive', async () => {
    serveTinyMnist();
    const dataDir = tempDir();
    const { result, events } = await fetchTiny({ dataDir });
    const folder = join(dataDir, 'mnist');
    expect(result.folder).toBe(folder);
    expect(result.files.map((f) => [f.name, f.status])).toEqual([
      ['train-images-idx3-ubyte', 'downloaded'],
      ['train-labels-idx1-ubyte', 'downloaded'],
      ['t10k-images-idx3-ubyte', 'downloaded'],
      ['t10k-labels-idx1-ubyte', 'downloaded'],
    ]);
    expect(readdirSync(folder).sort()).toEqual(
      ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
    );
    const downloads = events.filter((e) => e.stage === 'download');
    const lastOfFirst = downloads.filter((e) => e.url.endsWith('train-images-idx3-ubyte.gz')).pop();
    expect(lastOfFirst).toMatchObject({ receivedBytes: gzipSync(tinyIdxFiles(0)['train-images-idx3-ubyte']).length });
    expect(lastOfFirst?.totalBytes).toBe(lastOfFirst?.receivedBytes);

    const data = await loadTaskData({ dataset: 'mnist', trainIndices: [1, 2], valIndices: [3], dataDir, catalog: tinyCatalog(), cacheDir: null });
    expect(data.train.count).toBe(2);
  });

  it('keeps files that are already present and verified, without downloading them again', async () => {
    serveTinyMnist();
    const dataDir = tempDir();
    await fetchTiny({ dataDir });
    server.requests.length = 0;
    const { result } = await fetchTiny({ dataDir });
    expect(result.files.every((f) => f.status === 'present')).toBe(true);
    expect(server.requests).toEqual([]);
  });

  it('replaces a damaged copy, also one stored under the other name', async () => {
    serveTinyMnist();
    const dataDir = tempDir();
    await fetchTiny({ dataDir });
    const folder = join(dataDir, 'mnist');
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), idxImages(50, 3)); // plain, wrong content: shadows the .gz
    const { result } = await fetchTiny({ dataDir });
    expect(result.files[0]).toMatchObject({ status: 'downloaded', path: join(folder, 'train-images-idx3-ubyte.gz') });
    expect(existsSync(join(folder, 'train-images-idx3-ubyte'))).toBe(false);
  });

  it('refuses a corrupted download and leaves nothing behind', async () => {
    serveTinyMnist();
    const wrong = gzipSync(idxImages(50, 1)); // a valid IDX file, but not the "official" content
    server.routes.set('/mnist/train-images-idx3-ubyte.gz', { body: wrong });
    const dataDir = tempDir();
    const attempt = fetchTiny({ dataDir });
    await expect(attempt).rejects.toMatchObject({ code: 'download_failed' });
    await expect(attempt).rejects.toThrow(
      /could not fetch train-images-idx3-ubyte\.gz from any location:\n  http:\/\/127\.0\.0\.1:\d+\/mnist\/train-images-idx3-ubyte\.gz: refused: its decompressed content .* is not the official mnist/,
    );
    expect(existsSync(join(dataDir, 'mnist'))).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('refuses a download cut short (truncated body) and leaves nothing behind', async () => {
    serveTinyMnist();
    const body = gzipSync(tinyIdxFiles(0)['train-images-idx3-ubyte']);
    server.routes.set('/mnist/train-images-idx3-ubyte.gz', { body, sendBytes: Math.floor(body.length / 2) });
    const dataDir = tempDir();
    const attempt = fetchTiny({ dataDir });
    await expect(attempt).rejects.toMatchObject({ code: 'download_failed' });
    await expect(attempt).rejects.toThrow(/the transfer stopped after \d+ of \d+ bytes/);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('reports an HTTP error with the URL and status', async () => {
    const dataDir = tempDir();
    await expect(fetchTiny({ dataDir })).rejects.toThrow(/\/mnist\/train-images-idx3-ubyte\.gz: HTTP 404 Not Found/);
  });

  it('tries the mirrors in order when no base URL is given', async () => {
    serveTinyMnist('/second');
    const catalog = tinyCatalog();
    const mnist = { ...catalog.mnist, mirrors: [`${server.baseUrl}/first/`, `${server.baseUrl}/second/`] };
    const events: FetchProgress[] = [];
    const dataDir = tempDir();
    const result = await fetchDataset({ dataset: 'mnist', dataDir, catalog: { ...catalog, mnist }, onProgress: (e) => events.push(e) });
    expect(result.files.every((f) => f.status === 'downloaded')).toBe(true);
    expect(events.filter((e) => e.stage === 'mirror-failed')).toHaveLength(4);
  });

  it('leaves an existing folder and its other files alone when a fetch fails', async () => {
    const dataDir = tempDir();
    const folder = join(dataDir, 'mnist');
    require('node:fs').mkdirSync(folder);
    writeFileSync(join(folder, 'notes.txt'), 'mine');
    await expect(fetchTiny({ dataDir })).rejects.toThrow();
    expect(readdirSync(folder)).toEqual(['notes.txt']);
  });
});

describe('fetchDataset: the CIFAR-10 archive over HTTP (loopback)', () => {
  it('downloads the archive, checks its MD5, extracts the batches and records their provenance', async () => {
    const archive = await tinyCifarArchive();
    server.routes.set('/cifar/cifar-10-binary.tar.gz', { body: archive });
    const dataDir = tempDir();
    const catalog = tinyCatalog(md5(archive));
    const result = await fetchDataset({ dataset: 'cifar10', dataDir, baseUrl: `${server.baseUrl}/cifar`, catalog });
    const folder = join(dataDir, 'cifar10');
    expect(readdirSync(folder).sort()).toEqual(
      [CIFAR_PROVENANCE_FILE, 'batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'].sort(),
    );
    expect(result.files.map((f) => f.status)).toEqual(Array(7).fill('downloaded'));
    expect(readFileSync(join(folder, 'data_batch_2.bin')).equals(tinyCifarFiles()['data_batch_2.bin'])).toBe(true);
    const provenance = JSON.parse(readFileSync(join(folder, CIFAR_PROVENANCE_FILE), 'utf8'));
    expect(provenance.archiveMd5).toBe(md5(archive));

    // Verified now: loads without allowUnverified, and without warnings.
    const warnings: string[] = [];
    await loadTaskData({ dataset: 'cifar10', trainIndices: [0, 19], valIndices: [5], dataDir, catalog, cacheDir: null, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);

    server.requests.length = 0;
    const again = await fetchDataset({ dataset: 'cifar10', dataDir, baseUrl: `${server.baseUrl}/cifar`, catalog });
    expect(again.files.every((f) => f.status === 'present')).toBe(true);
    expect(server.requests).toEqual([]);
  });

  it('refuses an archive whose MD5 is not the official one and leaves nothing behind', async () => {
    const archive = await tinyCifarArchive();
    server.routes.set('/cifar/cifar-10-binary.tar.gz', { body: archive });
    const dataDir = tempDir();
    const attempt = fetchDataset({ dataset: 'cifar10', dataDir, baseUrl: `${server.baseUrl}/cifar/`, catalog: tinyCatalog('a'.repeat(32)) });
    await expect(attempt).rejects.toThrow(`refused: the archive's MD5 is ${md5(archive)}, the official one is ${'a'.repeat(32)}`);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('refuses an archive that lacks a batch, or holds a broken one, and leaves nothing behind', async () => {
    const files = tinyCifarFiles();
    delete files['data_batch_5.bin'];
    const lacking = await tinyCifarArchive(files);
    server.routes.set('/cifar/cifar-10-binary.tar.gz', { body: lacking });
    const dataDir = tempDir();
    await expect(
      fetchDataset({ dataset: 'cifar10', dataDir, baseUrl: `${server.baseUrl}/cifar`, catalog: tinyCatalog(md5(lacking)) }),
    ).rejects.toThrow(/the archive lacks cifar-10-batches-bin\/data_batch_5\.bin/);
    expect(readdirSync(dataDir)).toEqual([]);

    const broken = tinyCifarFiles();
    broken['data_batch_2.bin'] = broken['data_batch_2.bin'].subarray(0, 100);
    const brokenArchive = await tinyCifarArchive(broken);
    server.routes.set('/cifar/cifar-10-binary.tar.gz', { body: brokenArchive });
    await expect(
      fetchDataset({ dataset: 'cifar10', dataDir, baseUrl: `${server.baseUrl}/cifar`, catalog: tinyCatalog(md5(brokenArchive)) }),
    ).rejects.toThrow(/data_batch_2\.bin in the archive: expected 12292 bytes/);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
