import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CIFAR_PROVENANCE_FILE, CIFAR_RECORD_BYTES, type DatasetCatalog, DatasetError, type DatasetErrorCode, datasetFolder, type DatasetName, type DatasetSpec, findOfficialFile, getDatasetSpec, howToGetGoodCopy, OFFICIAL_CATALOG, readCifarProvenance, readMaybeGzip, temporaryPathFor, trainFileNames, verifyContent } from '../../datasets/src';
import type { BlobStore } from '../../storage/src';
import { DatasetUnavailableError } from '../../core/src';

/**
 * Copies a dataset's training files from the datasets bucket into the local data directory
 * (the training Lambda's /tmp), once per container: only missing files are downloaded,
 * each verified against the catalog's official checksum as the local loader does (CIFAR-10:
 * against the extraction record uploaded beside the batches) before it is kept. A file
 * that does not verify is deleted again and the sync fails (unless allowUnverified), so a
 * corrected upload is picked up by the next invocation. The bucket layout is what
 * `ml-trainer datasets upload` writes: `<prefix><dataset>/<official file name>[.gz]`, plus
 * `cifar10/.official-archive.json`.
 */
export interface DatasetSyncOptions {
  /** The datasets bucket. */
  blobs: BlobStore;
  /** Key prefix in the bucket (default none). */
  prefix?: string;
  /** Where the loader reads datasets (ML_TRAINER_DATA_DIR). */
  dataDir: string;
  /** The official files and checksums (tests inject tiny ones). */
  catalog?: DatasetCatalog;
  /** Keep files that do not verify, with a warning (never in production). */
  allowUnverified?: boolean;
  onWarning?: (message: string) => void;
  onProgress?: (event: DatasetSyncEvent) => void;
}

export type DatasetSyncEvent =
  | { stage: 'present'; dataset: DatasetName; files: number }
  | { stage: 'downloaded'; dataset: DatasetName; key: string; bytes: number; ms: number }
  | { stage: 'verified'; dataset: DatasetName; file: string };

export interface DatasetSyncResult {
  dataset: DatasetName;
  folder: string;
  downloaded: string[];
}

/** DatasetError codes that mean the bucket holds no usable copy (an upload fixes them). */
const BUCKET_DATA_PROBLEMS: ReadonlySet<DatasetErrorCode> = new Set(['missing_file', 'corrupt_file', 'checksum_mismatch', 'unverified']);

export class S3DatasetSync {
  private readonly done = new Map<DatasetName, Promise<DatasetSyncResult>>();
  private readonly catalog: DatasetCatalog;
  private readonly prefix: string;

  constructor(private readonly options: DatasetSyncOptions) {
    this.catalog = options.catalog ?? OFFICIAL_CATALOG;
    const prefix = options.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  /**
   * ensure, with a dataset the bucket cannot provide (a file missing, not the official bytes,
   * not well formed) answered as the Trainer port's DatasetUnavailableError: the interfaces
   * render it 503 dataset_unavailable with the message, which names the upload command.
   * Other failures (S3, the disk) stay faults.
   */
  async ensureAvailable(dataset: DatasetName): Promise<DatasetSyncResult> {
    try {
      return await this.ensure(dataset);
    } catch (error) {
      if (!(error instanceof DatasetError) || !BUCKET_DATA_PROBLEMS.has(error.code)) throw error;
      throw new DatasetUnavailableError(error.message, {
        dataset,
        data_dir: `s3://${this.options.blobs.bucket}/${this.prefix}${dataset}/`,
        next_attempt_at: null,
      });
    }
  }

  /** Makes the dataset's training files present and verified (at most one sync per dataset at a time; a failure is retried next call). */
  ensure(dataset: DatasetName): Promise<DatasetSyncResult> {
    let running = this.done.get(dataset);
    if (!running) {
      running = this.sync(dataset);
      this.done.set(dataset, running);
      running.catch(() => this.done.delete(dataset));
    }
    return running;
  }

  private async sync(dataset: DatasetName): Promise<DatasetSyncResult> {
    const spec = getDatasetSpec(dataset, this.catalog);
    const folder = datasetFolder(this.options.dataDir, dataset);
    const needed = [...trainFileNames(spec), ...(spec.format === 'cifar-binary' ? [CIFAR_PROVENANCE_FILE] : [])];
    const isPresent = (name: string) => (name === CIFAR_PROVENANCE_FILE ? existsSync(join(folder, name)) : findOfficialFile(folder, name) !== undefined);
    const missing = needed.filter((name) => !isPresent(name));
    if (missing.length === 0) {
      this.options.onProgress?.({ stage: 'present', dataset, files: needed.length });
      return { dataset, folder, downloaded: [] };
    }
    await mkdir(folder, { recursive: true });
    const listed = new Set((await this.options.blobs.listAll(`${this.prefix}${dataset}/`)).map((o) => o.key));
    const downloaded: string[] = [];
    try {
      for (const name of missing) {
        const plain = `${this.prefix}${dataset}/${name}`;
        const key = listed.has(plain) ? plain : listed.has(`${plain}.gz`) && name !== CIFAR_PROVENANCE_FILE ? `${plain}.gz` : null;
        if (key === null) {
          throw new DatasetError(
            'missing_file',
            `${dataset}: s3://${this.options.blobs.bucket}/${plain} (or .gz) is not in the datasets bucket. ` +
              `Upload the verified files with \`ml-trainer datasets upload --bucket ${this.options.blobs.bucket} --dataset ${dataset}\`.`,
            plain,
          );
        }
        downloaded.push(await this.download(dataset, key, folder));
      }
      await this.verify(spec, folder, downloaded);
    } catch (error) {
      await Promise.all(downloaded.map((path) => rm(path, { force: true })));
      throw error;
    }
    return { dataset, folder, downloaded };
  }

  private async download(dataset: DatasetName, key: string, folder: string): Promise<string> {
    const started = Date.now();
    const target = join(folder, basename(key));
    const temporary = temporaryPathFor(target);
    try {
      const body = await this.options.blobs.getStream(key);
      if (body === null) throw new DatasetError('missing_file', `s3://${this.options.blobs.bucket}/${key} disappeared while downloading.`, key);
      await pipeline(body, createWriteStream(temporary));
      await rename(temporary, target);
    } finally {
      await rm(temporary, { force: true });
    }
    const { size } = await stat(target);
    this.options.onProgress?.({ stage: 'downloaded', dataset, key, bytes: size, ms: Date.now() - started });
    return target;
  }

  /** Checks the downloaded data files (every batch again when CIFAR-10's extraction record is new). */
  private async verify(spec: DatasetSpec, folder: string, downloaded: string[]): Promise<void> {
    const provenance = spec.format === 'cifar-binary' ? await readCifarProvenance(folder) : undefined;
    const recordIsNew = downloaded.some((path) => basename(path) === CIFAR_PROVENANCE_FILE);
    for (const name of trainFileNames(spec)) {
      const path = findOfficialFile(folder, name);
      if (path === undefined) continue;
      if (!recordIsNew && !downloaded.includes(path)) continue;
      const content = await readMaybeGzip(path, rawBytesOf(spec, name), howToGetGoodCopy(spec.name));
      const check = verifyContent(spec, name, path, content.bytes, provenance);
      if (check.status === 'verified') {
        this.options.onProgress?.({ stage: 'verified', dataset: spec.name, file: path });
        continue;
      }
      const message = `${spec.name}: ${basename(path)} from the datasets bucket is not verified: ${check.reason}`;
      if (!this.options.allowUnverified) {
        throw new DatasetError(check.status === 'mismatch' ? 'checksum_mismatch' : 'unverified', `${message}. Upload a verified copy (ml-trainer datasets upload).`, path);
      }
      this.options.onWarning?.(`${message} (used anyway: allowUnverified)`);
    }
  }
}

/** The decompressed size of an official training file (the bound for gunzip). */
function rawBytesOf(spec: DatasetSpec, name: string): number {
  if (spec.format === 'cifar-binary') return spec.recordsPerBatch * CIFAR_RECORD_BYTES;
  const images = name === spec.files.trainImages.name || name === spec.files.testImages.name;
  const count = name === spec.files.trainImages.name || name === spec.files.trainLabels.name ? spec.trainCount : spec.testCount;
  return images ? 16 + count * spec.height * spec.width : 8 + count;
}
