import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDatasetsUpload } from '../../cli/commands/datasets-upload';
import type { DatasetCatalog } from '../../layers/datasets/src/dataset-catalog';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { captureIO } from '../datasets/helpers/capture-io';
import { tempDir, tinyCatalog, writeTinyIdx } from '../datasets/helpers/tiny-datasets';
import { runCli } from './cli-harness';

/**
 * `ml-trainer datasets upload` takes its region where the AWS SDK finds it (AWS_REGION, else
 * the profile's region in the shared config file), says where it uploads, and checks the
 * bucket first. The SDK reads process.env itself, so each test sets the AWS variables there
 * (a fresh config file each time: the SDK caches the files it has read by path).
 */

const AWS_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

describe('datasets upload: the region from the SDK default chain, the bucket checked first', () => {
  let runtime: LocalRuntime;
  let catalog: DatasetCatalog;
  let localData: string;
  const saved: Record<string, string | undefined> = {};

  /** A shared config file holding `body`, and no credentials file, as the SDK's only sources. */
  function awsEnvironment(configBody: string, extra: Record<string, string> = {}): void {
    const dir = tempDir('mlt-aws-config-');
    writeFileSync(join(dir, 'config'), configBody);
    for (const name of AWS_VARIABLES) delete process.env[name];
    Object.assign(process.env, { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), ...extra });
  }

  function upload(args: string[]) {
    const io = captureIO({ ...process.env });
    return runDatasetsUpload(['--dataset', 'mnist', '--data-dir', localData, '--json', ...args], io, { catalog }).then((code) => ({ code, out: io.out(), err: io.err() }));
  }

  beforeAll(async () => {
    for (const name of AWS_VARIABLES) saved[name] = process.env[name];
    runtime = await startLocalRuntime();
    catalog = tinyCatalog();
    localData = tempDir('mlt-upload-region-');
    writeTinyIdx(localData, 'mnist', true);
  });
  afterAll(async () => {
    for (const name of AWS_VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await runtime?.close();
  });

  it("uploads with the profile's region when AWS_REGION is not set, and says so", async () => {
    awsEnvironment('[default]\nregion = eu-west-1\n\n[profile research]\nregion = ap-southeast-2\n', { AWS_PROFILE: 'research' });
    const { code, out, err } = await upload(['--bucket', runtime.config.dataBucket, '--endpoint', runtime.endpoints.s3]);
    expect(err).toContain(`uploading to s3://${runtime.config.dataBucket}/ in region ap-southeast-2 (the AWS SDK's default chain)`);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ dataset: 'mnist', bucket: runtime.config.dataBucket, region: 'ap-southeast-2', verified: true })]);
    expect((await runtime.data.listAll('mnist/')).length).toBe(4);
  });

  it('prefers AWS_REGION to the profile, --region to both, and warns that AWS_DEFAULT_REGION is not read', async () => {
    awsEnvironment('[default]\nregion = eu-west-1\n', { AWS_REGION: 'ca-central-1', AWS_DEFAULT_REGION: 'sa-east-1' });
    const fromEnv = await upload(['--bucket', runtime.config.dataBucket, '--endpoint', runtime.endpoints.s3]);
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.err).toContain('in region ca-central-1 (the AWS SDK\'s default chain)');
    expect(fromEnv.err).toMatch(/warning: AWS_DEFAULT_REGION=sa-east-1 is not read by the AWS SDK for JavaScript; if sa-east-1 is meant, set AWS_REGION or give --region/);

    const given = await upload(['--bucket', runtime.config.dataBucket, '--endpoint', runtime.endpoints.s3, '--region', 'eu-central-2']);
    expect(given.code).toBe(0);
    expect(given.err).toContain('in region eu-central-2 (--region)');
    expect(given.err).not.toContain('warning');
    expect(JSON.parse(given.out)[0].files.every((f: { status: string }) => f.status === 'unchanged')).toBe(true);
  });

  it('refuses to guess a region for AWS: says how to set one (exit 2), before any request', async () => {
    awsEnvironment('[default]\noutput = json\n');
    const result = await runCli(['datasets', 'upload', '--bucket', 'my-datasets-bucket', '--dataset', 'mnist', '--data-dir', localData], '', { ...process.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no AWS region: give --region <region> \(the region the stacks are deployed in\), set AWS_REGION, or set the profile's region with `aws configure`/);
    expect(result.stdout).toBe('');
  });

  it('names a missing bucket and uploads nothing', async () => {
    awsEnvironment('[default]\nregion = eu-west-1\n');
    const { code, out, err } = await upload(['--bucket', 'no-such-datasets-bucket', '--endpoint', runtime.endpoints.s3]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/no bucket no-such-datasets-bucket in region eu-west-1: give the DatasetsBucketName output of the data stack/);
  });

  describe('a bucket in another region', () => {
    let server: Server;
    const requests: string[] = [];

    beforeAll(async () => {
      // What S3 answers a HeadBucket sent to the wrong region: 301 with no body and the bucket's region in a header.
      server = createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        res.writeHead(301, { 'x-amz-bucket-region': 'eu-west-1', 'x-amz-request-id': 'TEST', 'content-length': '0' });
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('names the region the bucket is in', async () => {
      awsEnvironment('[default]\nregion = us-east-2\n');
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { code, err } = await upload(['--bucket', 'datasets-elsewhere', '--endpoint', endpoint]);
      expect(code).toBe(1);
      expect(err).toContain('bucket datasets-elsewhere is in region eu-west-1, not us-east-2: run again with --region eu-west-1 (or AWS_REGION=eu-west-1)');
      expect(requests).toEqual(['HEAD /datasets-elsewhere/']); // path-style on a loopback endpoint
    });
  });
});
