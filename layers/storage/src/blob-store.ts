import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  NoSuchKey,
  NotFound,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { KEY_SAFE_ID_PATTERN } from '../../core/src';
import { StorageError } from './errors';

/** Where a checkpoint is and what it must hash to; stored on the episode item. */
export interface CheckpointPointer {
  key: string;
  sha256: string;
  size: number;
}

export interface BlobInfo {
  key: string;
  size: number;
  etag: string | undefined;
  lastModified: Date | undefined;
  metadata: Record<string, string>;
  contentType: string | undefined;
}

export interface BlobListing {
  items: { key: string; size: number; lastModified: Date | undefined }[];
  cursor: string | null;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface BlobStoreOptions {
  /** Part size of multipart uploads (lib-storage; at least 5 MiB). Bodies up to one part go in one PutObject. */
  partSize?: number;
  /** Parts uploaded in parallel. */
  queueSize?: number;
}

export const MIN_PART_SIZE = 5 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** Key segments we build from tenant and episode ids are key-safe ids: no separators, no dot segments. */
function segment(name: string, value: string): string {
  if (!KEY_SAFE_ID_PATTERN.test(value)) {
    throw new StorageError('invalid_key', `${name} ${JSON.stringify(value)} cannot be part of a storage key.`);
  }
  return value;
}

/** Every checkpoint key starts with this (`checkpoints/<tenant>/<episode id>/…`). */
export const CHECKPOINTS_PREFIX = 'checkpoints/';

export function checkpointPrefix(tenant: string, episodeId: string): string {
  return `${CHECKPOINTS_PREFIX}${segment('tenant', tenant)}/${segment('episode id', episodeId)}/`;
}

/** The episode a checkpoint key belongs to, or null for a key that checkpointKey did not build. */
export function checkpointOwner(key: string): { tenant: string; episodeId: string } | null {
  if (!key.startsWith(CHECKPOINTS_PREFIX)) return null;
  const [tenant, episodeId, name, ...rest] = key.slice(CHECKPOINTS_PREFIX.length).split('/');
  if (rest.length > 0 || !name || !KEY_SAFE_ID_PATTERN.test(tenant ?? '') || !KEY_SAFE_ID_PATTERN.test(episodeId ?? '')) return null;
  return { tenant: tenant!, episodeId: episodeId! };
}

/**
 * The key of one checkpoint write: content-addressed (its SHA-256 is in the key and is
 * verified on every read) plus the id of the write attempt. The attempt id keeps keys
 * unique per writer: two competing steps often produce identical bytes (the same call on
 * the same version, or a call that leaves the trainer unchanged), and the loser deletes
 * its own object after losing, which must never be the winner's.
 */
export function checkpointKey(tenant: string, episodeId: string, sha256: string, attemptId: string): string {
  if (!SHA256_PATTERN.test(sha256)) throw new StorageError('invalid_key', `not a SHA-256 hex digest: ${JSON.stringify(sha256)}`);
  return `${checkpointPrefix(tenant, episodeId)}${sha256}.${segment('attempt id', attemptId)}.bin`;
}

function isNotFound(error: unknown): boolean {
  if (error instanceof NoSuchKey || error instanceof NotFound) return true;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Objects in one S3 bucket (AWS or s3rver): generic put/get/head/delete/list for datasets
 * and reports, and checkpoints whose SHA-256 is verified on every read. Puts go through
 * lib-storage's Upload, which sends one PutObject for small bodies and a multipart upload
 * (parts in parallel, aborted on failure) for large ones and for streams.
 */
export class BlobStore {
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
    options: BlobStoreOptions = {},
  ) {
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
  }

  async put(key: string, body: Uint8Array | Readable | string, options: PutOptions = {}): Promise<{ etag: string | undefined }> {
    const upload = new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
        ...(options.metadata ? { Metadata: options.metadata } : {}),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    const output = await upload.done();
    return { etag: output.ETag };
  }

  /** The object's bytes, or null when there is no such key. */
  async get(key: string): Promise<Uint8Array | null> {
    try {
      const output = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!output.Body) return new Uint8Array(0);
      return await output.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** A stream of the object, or null when there is no such key. */
  async getStream(key: string): Promise<Readable | null> {
    try {
      const output = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (output.Body as Readable | undefined) ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    try {
      const output = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: output.ContentLength ?? 0,
        etag: output.ETag,
        lastModified: output.LastModified,
        metadata: output.Metadata ?? {},
        contentType: output.ContentType,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Deleting a missing key is not an error (as in S3). */
  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const output = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      if (output.Errors && output.Errors.length > 0) {
        const first = output.Errors[0];
        throw new Error(`Deleting ${output.Errors.length} of ${batch.length} objects failed; first: ${first.Key}: ${first.Code} ${first.Message}`);
      }
    }
  }

  /**
   * One page of the keys under a prefix, in key order; the cursor is the page's last key.
   * ListObjects (v1, with Marker) rather than ListObjectsV2: s3rver builds V2 continuation
   * tokens with DES, which Node 20's OpenSSL 3 no longer offers, so every truncated V2
   * listing fails there with InternalError. V1 is fully supported by S3.
   */
  async list(prefix: string, options: { limit?: number; cursor?: string | null } = {}): Promise<BlobListing> {
    const output = await this.s3.send(
      new ListObjectsCommand({
        Bucket: this.bucket,
        Prefix: prefix,
        MaxKeys: Math.min(1000, Math.max(1, options.limit ?? 1000)),
        ...(options.cursor ? { Marker: options.cursor } : {}),
      }),
    );
    const items = (output.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0, lastModified: o.LastModified }));
    const last = items[items.length - 1];
    return { items, cursor: output.IsTruncated && last ? last.key : null };
  }

  /** Every key under a prefix (all pages). */
  async listAll(prefix: string): Promise<BlobListing['items']> {
    const items: BlobListing['items'] = [];
    let cursor: string | null = null;
    do {
      const page: BlobListing = await this.list(prefix, { cursor });
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== null);
    return items;
  }

  /** Writes checkpoint bytes under the pointer's key; the digest is also kept as object metadata. */
  async putCheckpoint(pointer: CheckpointPointer, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength !== pointer.size || sha256Hex(bytes) !== pointer.sha256) {
      throw new StorageError('integrity', `Checkpoint bytes do not match the pointer for ${pointer.key}.`);
    }
    await this.put(pointer.key, bytes, { contentType: 'application/octet-stream', metadata: { sha256: pointer.sha256 } });
  }

  /**
   * The checkpoint's bytes, verified against the pointer's size and SHA-256. A missing or
   * altered object is a StorageError('integrity'): the episode cannot continue from it.
   */
  async getCheckpoint(pointer: CheckpointPointer): Promise<Uint8Array> {
    const bytes = await this.get(pointer.key);
    if (bytes === null) {
      throw new StorageError('integrity', `Checkpoint ${pointer.key} is missing from bucket ${this.bucket}.`, { key: pointer.key });
    }
    const actual = sha256Hex(bytes);
    if (bytes.byteLength !== pointer.size || actual !== pointer.sha256) {
      throw new StorageError(
        'integrity',
        `Checkpoint ${pointer.key} is corrupt: ${bytes.byteLength} bytes with SHA-256 ${actual}, expected ${pointer.size} bytes with ${pointer.sha256}.`,
        { key: pointer.key, expected_sha256: pointer.sha256, actual_sha256: actual },
      );
    }
    return bytes;
  }
}
