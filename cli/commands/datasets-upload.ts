import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { HeadBucketCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CIFAR_PROVENANCE_FILE, DATASET_NAMES, type DatasetCatalog, type DatasetName, type DatasetReport, isDatasetName, resolveDataDir, verifyDatasets } from '../../layers/datasets/src';
import { UsageError, type CliIO } from '../command';

/** The usage line of `ml-trainer datasets upload` (also in `ml-trainer datasets --help`). */
export const DATASETS_UPLOAD_USAGE = `  ml-trainer datasets upload --bucket <bucket> [--region R] [--prefix P] [--endpoint URL] [--dataset <${[...DATASET_NAMES, 'all'].join('|')}>] [--data-dir D] [--json]`;

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
  --bucket <name>   the datasets bucket (required); checked (HeadBucket) before anything is uploaded
  --region <r>      its region (default: the AWS SDK's own resolution: AWS_REGION, else the
                    region of the profile in ~/.aws/config (AWS_PROFILE, else default));
                    the region and bucket used are printed first. With a loopback
                    --endpoint and no region anywhere, us-east-1 (s3rver ignores it)
  --prefix <p>      key prefix inside the bucket (default none; the training Lambda reads DATA_PREFIX)
  --endpoint <url>  an S3-compatible endpoint instead of AWS. On a loopback host (localhost,
                    127.0.0.0/8, ::1: a local s3rver) the client uses path-style addressing,
                    checksums only where required and the S3RVER test credentials unless
                    AWS_ACCESS_KEY_ID is set; any other endpoint keeps the SDK's defaults
  --dataset <name>  ${DATASET_NAMES.join(', ')} or all (default all)
  --data-dir <dir>  the data directory (default $ML_TRAINER_DATA_DIR, else the user cache)
  --json            print what was uploaded as JSON on stdout

Credentials come from the usual AWS environment (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, ...).
The SDK does not read AWS_DEFAULT_REGION (the AWS CLI's variable): set AWS_REGION or --region.`;

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
  /** The bucket's region (as resolved, and confirmed by HeadBucket). */
  region: string;
  verified: boolean;
  files: UploadedFile[];
  /** Why it is not (all) in the bucket: a dataset that is not verified, or the upload that failed. */
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

/**
 * The S3 client settings for an endpoint (none: AWS) and a region. Without a region the
 * SDK resolves one itself (AWS_REGION, the profile's region in the shared config file, ...),
 * so the profile a user deployed with is the one uploaded to.
 */
export function s3ClientConfig(endpoint: string | undefined, env: NodeJS.ProcessEnv, region?: string): S3ClientConfig {
  const config: S3ClientConfig = region === undefined ? {} : { region };
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

/** s3rver ignores the region, but the SDK needs one to sign: used for a loopback endpoint when none resolves. */
const LOOPBACK_FALLBACK_REGION = 'us-east-1';

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

const HOW_TO_SET_REGION =
  'give --region <region> (the region the stacks are deployed in), set AWS_REGION, or set the profile\'s region with `aws configure` (AWS_PROFILE selects the profile)';

/** The client for the upload and the region the SDK resolved for it; null when no region resolves. */
export async function openS3Client(endpoint: string | undefined, env: NodeJS.ProcessEnv, region?: string): Promise<{ client: S3Client; region: string } | null> {
  const client = new S3Client(s3ClientConfig(endpoint, env, region));
  const resolved = await client.config.region().catch(() => undefined);
  if (resolved) return { client, region: resolved };
  client.destroy();
  if (endpoint === undefined || !isLoopbackEndpoint(endpoint)) return null;
  return { client: new S3Client(s3ClientConfig(endpoint, env, LOOPBACK_FALLBACK_REGION)), region: LOOPBACK_FALLBACK_REGION };
}

interface S3ErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * Null when the bucket exists and these credentials reach it in this region; otherwise what is
 * wrong and what to do. S3 answers a bucket of another region with 301 (or 400 to HeadBucket)
 * and its region in x-amz-bucket-region (what the SDK's own region redirect reads).
 */
export async function bucketProblem(client: S3Client, bucket: string, region: string): Promise<string | null> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return null;
  } catch (error) {
    const e = error as S3ErrorShape;
    const status = e.$metadata?.httpStatusCode;
    const bucketRegion = e.$response?.headers?.['x-amz-bucket-region'];
    if (bucketRegion && bucketRegion !== region && (status === 301 || status === 400)) {
      return `bucket ${bucket} is in region ${bucketRegion}, not ${region}: run again with --region ${bucketRegion} (or AWS_REGION=${bucketRegion})`;
    }
    if (status === 404) {
      return `no bucket ${bucket} in region ${region}: give the DatasetsBucketName output of the data stack (aws cloudformation describe-stacks), and the region it is deployed in`;
    }
    if (status === 403) return `access to bucket ${bucket} denied: use the credentials of the account that deployed the stacks (AWS_PROFILE)`;
    if (e.name === 'CredentialsProviderError') return `no AWS credentials (${e.message}): run \`aws configure\` or set AWS_PROFILE`;
    return `cannot check bucket ${bucket} in region ${region}: ${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;
  }
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

interface UploadRequest {
  bucket: string;
  /** '' or ending with '/'. */
  prefix: string;
  endpoint: string | undefined;
  /** --region; undefined: the SDK's default chain. */
  region: string | undefined;
  datasets: DatasetName[];
  dataDir: string;
  json: boolean;
}

export function parseUploadArgs(argv: string[], env: NodeJS.ProcessEnv): UploadRequest {
  const { values } = parseArgs({
    args: argv,
    options: {
      bucket: { type: 'string' },
      region: { type: 'string' },
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
  const region = values.region?.trim();
  if (region !== undefined && !REGION_PATTERN.test(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not an AWS region such as eu-west-1`);
  let prefix = values.prefix ?? '';
  if (prefix.startsWith('/')) throw new UsageError('--prefix must not start with /');
  if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`;
  return { bucket, prefix, endpoint, region, datasets: parseDatasets(values.dataset), dataDir: resolveDataDir(values['data-dir'], env), json: values.json === true };
}

/**
 * `ml-trainer datasets upload`: returns the exit code (0: every dataset asked for is in the
 * bucket; 1: the bucket cannot be used, some dataset was not verified or an upload failed).
 * Bad options, or no region at all, throw UsageError.
 */
export async function runDatasetsUpload(argv: string[], io: CliIO, options: DatasetsUploadOptions = {}): Promise<number> {
  const request = parseUploadArgs(argv, io.env);
  const opened = await openS3Client(request.endpoint, io.env, request.region);
  if (opened === null) throw new UsageError(`no AWS region: ${HOW_TO_SET_REGION}`);
  const { client, region } = opened;
  try {
    announceTarget(request, region, io);
    const problem = await bucketProblem(client, request.bucket, region);
    if (problem !== null) {
      io.stderr.write(`ml-trainer datasets upload: ${problem}\n`);
      return 1;
    }
    const reports = await verifyDatasets({ dataDir: request.dataDir, datasets: request.datasets, env: io.env, ...(options.catalog ? { catalog: options.catalog } : {}) });
    const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);
    const results: DatasetUpload[] = [];
    for (const report of reports) results.push(await uploadDataset(client, { ...request, region, partSize }, report, io));
    printResults(request, results, io);
    return results.every((r) => r.verified && r.problem === undefined) ? 0 : 1;
  } finally {
    client.destroy();
  }
}

/** Where the files go, said before anything is sent (a wrong region or profile shows at once). */
function announceTarget(request: UploadRequest, region: string, io: CliIO): void {
  const how = request.region ? '--region' : "the AWS SDK's default chain";
  io.stderr.write(`uploading to s3://${request.bucket}/${request.prefix} in region ${region} (${how})${request.endpoint ? ` via ${request.endpoint}` : ''}\n`);
  const cliRegion = io.env.AWS_DEFAULT_REGION?.trim();
  if (!request.region && cliRegion && cliRegion !== region) {
    io.stderr.write(`warning: AWS_DEFAULT_REGION=${cliRegion} is not read by the AWS SDK for JavaScript; if ${cliRegion} is meant, set AWS_REGION or give --region\n`);
  }
}

async function uploadDataset(
  client: S3Client,
  target: { bucket: string; prefix: string; region: string; partSize: number },
  report: DatasetReport,
  io: CliIO,
): Promise<DatasetUpload> {
  const { bucket, region } = target;
  if (!report.verified) {
    const problems = report.files.filter((f) => f.status !== 'verified').map((f) => `${f.path}: ${f.status} (${f.reason})`);
    const problem = `not uploaded: not every file is verified:\n  ${problems.join('\n  ')}\nRun \`ml-trainer datasets fetch --dataset ${report.dataset}\` first.`;
    io.stderr.write(`${report.dataset}: ${problem}\n`);
    return { dataset: report.dataset, bucket, region, verified: false, files: [], problem };
  }
  const files: UploadedFile[] = [];
  try {
    for (const path of filesOf(report)) {
      files.push(await uploadFile(client, { bucket, key: `${target.prefix}${report.dataset}/${basename(path)}`, path, partSize: target.partSize, dataset: report.dataset }, io));
    }
  } catch (error) {
    const problem = `upload failed: ${(error as Error).message}`;
    io.stderr.write(`${report.dataset}: ${problem}\n`);
    return { dataset: report.dataset, bucket, region, verified: true, files, problem };
  }
  return { dataset: report.dataset, bucket, region, verified: true, files };
}

function printResults(request: UploadRequest, results: DatasetUpload[], io: CliIO): void {
  if (request.json) {
    io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  for (const result of results) {
    if (!result.verified) continue;
    const uploaded = result.files.filter((f) => f.status === 'uploaded').length;
    io.stdout.write(
      `${result.dataset}: ${result.files.length} files in s3://${result.bucket}/${request.prefix}${result.dataset}/ (${result.region}; ${uploaded} uploaded, ${result.files.length - uploaded} already there)\n`,
    );
  }
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
