import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UsageError } from '../../cli/command';
import { datasetsCommand } from '../../cli/commands/datasets';
import { runCli } from '../cli/cli-harness';
import { captureIO } from './helpers/capture-io';
import { LoopbackServer, startLoopbackServer } from './helpers/loopback-server';
import { idxImages, tempDir, writeTinyIdx } from './helpers/tiny-datasets';

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());

describe('ml-trainer datasets fetch', () => {
  it('refuses a download that is not the official file, says so on stderr, exits 1 and leaves nothing', async () => {
    server.routes.set('/m/train-images-idx3-ubyte.gz', { body: gzipSync(idxImages(60, 0)) });
    const dataDir = tempDir();
    const io = captureIO();
    const code = await datasetsCommand.run(['fetch', '--dataset', 'mnist', '--data-dir', dataDir, '--base-url', `${server.baseUrl}/m/`], io);
    expect(code).toBe(1);
    expect(io.err()).toMatch(/mnist: http:\/\/127\.0\.0\.1:\d+\/m\/train-images-idx3-ubyte\.gz 100% \(0\.0 MB \/ 0\.0 MB\)/);
    expect(io.err()).toMatch(
      /ml-trainer datasets fetch: mnist: could not fetch train-images-idx3-ubyte\.gz from any location:\n  http:\S+: refused: its decompressed content \(47056 bytes, SHA-256 \w+\) is not the official mnist/,
    );
    expect(io.out()).toBe('');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it.each([
    [['fetch'], /--dataset is required \(mnist, fashion_mnist, cifar10 or all\)/],
    [['fetch', '--dataset', 'imagenet'], /unknown dataset "imagenet"; datasets: mnist, fashion_mnist, cifar10, all/],
    [['fetch', '--dataset', 'mnist', '--base-url', 'ftp://x'], /--base-url must be an http\(s\) URL/],
    [['download'], /unknown action "download"; actions: fetch, verify, upload/],
    [[], /say what to do: fetch, verify or upload/],
    [['upload'], /--bucket is required \(the DatasetsBucketName output of the deployment\)/],
    [['upload', '--bucket', 'Not_A_Bucket'], /--bucket "Not_A_Bucket" is not a valid S3 bucket name/],
  ])('refuses bad input %p with a UsageError', async (argv, message) => {
    const attempt = datasetsCommand.run(argv as string[], captureIO());
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('ml-trainer datasets verify', () => {
  it('reports missing files and exits 1 on an empty data dir (JSON)', async () => {
    const dataDir = tempDir();
    const io = captureIO();
    expect(await datasetsCommand.run(['verify', '--data-dir', dataDir, '--json'], io)).toBe(1);
    const reports = JSON.parse(io.out());
    expect(reports.map((r: { dataset: string }) => r.dataset)).toEqual(['mnist', 'fashion_mnist', 'cifar10']);
    expect(reports[0].files[0]).toMatchObject({ name: 'train-images-idx3-ubyte', status: 'missing', path: join(dataDir, 'mnist', 'train-images-idx3-ubyte') });
  });

  it('reports files that are not the official ones (here: tiny stand-ins) as corrupt, with the reason', async () => {
    const dataDir = tempDir();
    writeTinyIdx(dataDir, 'mnist', true);
    const io = captureIO({ ML_TRAINER_DATA_DIR: dataDir });
    expect(await datasetsCommand.run(['verify', '--dataset', 'mnist'], io)).toBe(1);
    expect(io.out()).toMatch(/^mnist: NOT verified \(.*\/mnist\)\n  corrupt +.*train-images-idx3-ubyte\.gz\n +.*expected 60000 images, found a header declaring 50 images/);
  });
});

describe('ml-trainer datasets upload (through the CLI entry point)', () => {
  it('prints its usage and options with the datasets help', async () => {
    const r = await runCli(['datasets', 'upload', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('ml-trainer datasets upload --bucket <bucket> [--region R] [--prefix P] [--endpoint URL]');
    expect(r.stdout).toMatch(/^upload {2}copies the verified local dataset files into the datasets bucket/m);
    expect(r.stdout).toMatch(/^ {2}--bucket <name> {3}the datasets bucket \(required\); checked \(HeadBucket\)/m);
    expect(r.stdout).toContain('ml-trainer datasets fetch --dataset');
    expect(r.stderr).toBe('');
  });

  it('exits 2 with a clear message without --bucket, before touching the data or the network', async () => {
    const dataDir = tempDir();
    const r = await runCli(['datasets', 'upload', '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ml-trainer datasets: --bucket is required (the DatasetsBucketName output of the deployment)\n(see ml-trainer datasets --help)\n');
    expect(r.stdout).toBe('');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('exits 2 on an unknown option', async () => {
    const r = await runCli(['datasets', 'upload', '--bucket', 'my-bucket', '--regoin', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ml-trainer datasets: Unknown option '--regoin'/);
  });

  it('exits 2 on a region that is not one, naming the form', async () => {
    const r = await runCli(['datasets', 'upload', '--bucket', 'my-bucket', '--region', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ml-trainer datasets: --region "x" is not an AWS region such as eu-west-1/);
  });
});
