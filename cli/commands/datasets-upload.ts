import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CIFAR_PROVENANCE_FILE, DATASET_NAMES, type DatasetCatalog, type DatasetName, type DatasetReport, isDatasetName, resolveDataDir, verifyDatasets } from '../../layers/datasets/src';
import { UsageError, type CliIO } from '../command';

/** The usage line of `ml-trainer datasets upload` (also in `ml-trainer datasets --help`). */
export const DATASETS_UPLOAD_USAGE = `  ml-trainer datasets upload --bucket <bucket> [--prefix P] [--endpoint URL] [--dataset <${[...DATASET_NAMES, 'all'].join('|')}>] [--data-dir D] [--json]`;

/** What upload does and its options (also in `ml-trainer datasets --help`). */
export const DATASETS_UPLOAD_DETAILS = `upload  copies the verified local dataset files into the datasets bucket of a deployment
        (the DatasetsBucketName output of the data stack), where the training Lambda reads
        them: <prefix><dataset>/<official file name>[.gz] as stored locally, plus
        cifar10/${CIFAR_PROVENANCE_FILE} (the record that the batches came from the official
        archive). Only datasets whose every file is verified against the official checksums
        are uploaded (run \`ml-trainer datasets fetch\` first). Files already in the bucket
        with the same SHA-256 are skipped. Large files go up as multipart uploads; progress
        goes to stderr.

Options (upload):
  --bucket <name>   the datasets bucket (required)
  --prefix <p>      key prefix inside the bucket (default none; the training Lambda reads DATA_PREFIX)
  --endpoint <url>  an S3-compatible endpoint instead of AWS. On a loopback host (localhost,
                    127.0.0.0/8, ::1: a local s3rver) the client uses path-style addressing,
                    checksums only where required and the S3RVER test credentials unless
                    AWS_ACCESS_KEY_ID is set; any other endpoint keeps the SDK's defaults
  --dataset <name>  ${DATASET_NAMES.join(', ')} or all (default all)
  --data-dir <dir>  the data directory (default $ML_TRAINER_DATA_DIR, else the user cache)
  --json            print what was uploaded as JSON on stdout

Credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION, ...).`;

export const DATASETS_UPLOAD_HELP = `Usage:
${DATASETS_UPLOAD_USAGE}

${DATASETS_UPLOAD_DETAILS}`;

export interface UploadedFile {
  key: string;
  path: string;
  bytes: number;
  sha256: string;
  status: 'uploaded' | 'unchanged';
}

export interface DatasetUpload {
  dataset: DatasetName;
  bucket: string;
  verified: boolean;
  files: UploadedFile[];
  /** Why nothing was uploaded (a dataset that is not verified). */
  problem?: string;
}

export interface DatasetsUploadOptions {
  /** The official files and checksums (tests inject tiny ones). */
  catalog?: DatasetCatalog;
  /** Bytes per multipart part (at least 5 MiB; default 8 MiB). */
  partSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

/** True for an endpoint on this machine (a local s3rver), which gets the s3rver-safe client settings. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The S3 client settings for an endpoint (none: AWS). */
export function s3ClientConfig(endpoint: string | undefined, env: NodeJS.ProcessEnv): S3ClientConfig {
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
  const config: S3ClientConfig = { region };
  if (endpoint === undefined) return config;
  config.endpoint = endpoint;
  if (isLoopbackEndpoint(endpoint)) {
    // s3rver: virtual-host addressing does not resolve, and with the SDK's default checksums a
    // streamed upload is stored with its aws-chunked framing as content.
    Object.assign(config, {
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } satisfies S3ClientConfig);
    if (!env.AWS_ACCESS_KEY_ID) config.credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  }
  return config;
}

function parseDatasets(value: string | undefined): DatasetName[] {
  if (value === undefined || value === 'all') return [...DATASET_NAMES];
  if (!isDatasetName(value)) throw new UsageError(`unknown dataset ${JSON.stringify(value)}; datasets: ${DATASET_NAMES.join(', ')}, all`);
  return [value];
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The files to upload of a verified dataset: every official file as stored, plus CIFAR-10's extraction record. */
function filesOf(report: DatasetReport): string[] {
  const paths = report.files.map((f) => f.path);
  if (report.dataset === 'cifar10') {
    const record = join(report.folder, CIFAR_PROVENANCE_FILE);
    if (existsSync(record)) paths.push(record);
  }
  return paths;
}

/**
 * `ml-trainer datasets upload`: returns the exit code (0: every dataset asked for is in the
 * bucket; 1: some dataset was not verified or an upload failed). Bad options throw UsageError.
 */
export async function runDatasetsUpload(argv: string[], io: CliIO, options: DatasetsUploadOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bucket: { type: 'string' },
      prefix: { type: 'string' },
      endpoint: { type: 'string' },
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const bucket = values.bucket?.trim();
  if (!bucket) throw new UsageError('--bucket is required (the DatasetsBucketName output of the deployment)');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(`--bucket ${JSON.stringify(bucket)} is not a valid S3 bucket name`);
  const endpoint = values.endpoint;
  if (endpoint !== undefined && !/^https?:\/\/./.test(endpoint)) throw new UsageError(`--endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  let prefix = values.prefix ?? '';
  if (prefix.startsWith('/')) throw new UsageError('--prefix must not start with /');
  if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`;
  const datasets = parseDatasets(values.dataset);
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);

  const reports = await verifyDatasets({ dataDir, datasets, env: io.env, ...(options.catalog ? { catalog: options.catalog } : {}) });
  const client = new S3Client(s3ClientConfig(endpoint, io.env));
  const results: DatasetUpload[] = [];
  let failed = false;
  try {
    for (const report of reports) {
      if (!report.verified) {
        const problems = report.files.filter((f) => f.status !== 'verified').map((f) => `${f.path}: ${f.status} (${f.reason})`);
        const problem = `not uploaded: not every file is verified:\n  ${problems.join('\n  ')}\nRun \`ml-trainer datasets fetch --dataset ${report.dataset}\` first.`;
        io.stderr.write(`${report.dataset}: ${problem}\n`);
        results.push({ dataset: report.dataset, bucket, verified: false, files: [], problem });
        failed = true;
        continue;
      }
      const files: UploadedFile[] = [];
      try {
        for (const path of filesOf(report)) files.push(await uploadFile(client, { bucket, key: `${prefix}${report.dataset}/${basename(path)}`, path, partSize, dataset: report.dataset }, io));
      } catch (error) {
        io.stderr.write(`${report.dataset}: upload failed: ${(error as Error).message}\n`);
        failed = true;
      }
      results.push({ dataset: report.dataset, bucket, verified: true, files });
    }
  } finally {
    client.destroy();
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    for (const result of results) {
      if (!result.verified) continue;
      const uploaded = result.files.filter((f) => f.status === 'uploaded').length;
      io.stdout.write(
        `${result.dataset}: ${result.files.length} files in s3://${bucket}/${prefix}${result.dataset}/ (${uploaded} uploaded, ${result.files.length - uploaded} already there)\n`,
      );
    }
  }
  return failed ? 1 : 0;
}

async function uploadFile(
  client: S3Client,
  target: { bucket: string; key: string; path: string; partSize: number; dataset: DatasetName },
  io: CliIO,
): Promise<UploadedFile> {
  const { size } = await stat(target.path);
  const sha256 = await sha256OfFile(target.path);
  const existing = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key })).catch((error: unknown) => {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return null;
    throw error;
  });
  if (existing && existing.ContentLength === size && existing.Metadata?.sha256 === sha256) {
    io.stderr.write(`${target.dataset}: ${target.key} already in the bucket (same SHA-256)\n`);
    return { key: target.key, path: target.path, bytes: size, sha256, status: 'unchanged' };
  }
  const upload = new Upload({
    client,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: createReadStream(target.path),
      ContentLength: size,
      ContentType: target.key.endsWith('.json') ? 'application/json' : target.key.endsWith('.gz') ? 'application/gzip' : 'application/octet-stream',
      Metadata: { sha256 },
    },
    partSize: target.partSize,
    queueSize: 4,
    leavePartsOnError: false,
  });
  let lastStep = -1;
  upload.on('httpUploadProgress', (progress) => {
    const loaded = progress.loaded ?? 0;
    const step = size > 0 ? Math.floor((10 * loaded) / size) : 10;
    if (step === lastStep) return;
    lastStep = step;
    io.stderr.write(`${target.dataset}: ${target.key} ${size > 0 ? Math.floor((100 * loaded) / size) : 100}% (${megabytes(loaded)} / ${megabytes(size)})\n`);
  });
  await upload.done();
  return { key: target.key, path: target.path, bytes: size, sha256, status: 'uploaded' };
}
