import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { sha256Hex } from './checksums';
import type { DatasetSpec } from './dataset-catalog';
import type { SourceFile } from './source-files';
import type { SubsetIndices } from './subset';
import type { ImageSet, TaskData } from './task-data';

/**
 * A decoded task subset on disk, so that a warm start skips decompressing and decoding
 * the whole official split. Layout: 8-byte magic, uint32 LE header length, a JSON header,
 * then train images, train labels, val images, val labels. The header carries the key the
 * entry was built for and the SHA-256 of the payload; an entry that fails any check is
 * ignored (and rebuilt by the caller), never trusted.
 */
const MAGIC = Buffer.from('MLTSUBS1', 'ascii');
const FORMAT_VERSION = 1;
const MAX_HEADER_BYTES = 64 * 1024;

export interface CacheHeader {
  version: number;
  key: string;
  dataset: string;
  channels: number;
  height: number;
  width: number;
  trainCount: number;
  valCount: number;
  /** Whether the sources matched their official checksums when the entry was built. */
  verified: boolean;
  /** The warnings given when it was built from unverified sources (repeated on every use). */
  warnings: string[];
  payloadSha256: string;
}

export interface CachedSubset {
  data: TaskData;
  verified: boolean;
  warnings: string[];
}

/** What identifies an entry: the dataset as described, its source files as they are on disk, and the indices. */
export async function subsetCacheKey(
  spec: DatasetSpec,
  sources: readonly SourceFile[],
  extraFiles: readonly string[],
  indices: SubsetIndices,
): Promise<string> {
  const files = await Promise.all([...sources.map((s) => s.path), ...extraFiles].map(fileIdentity));
  const identity = { version: FORMAT_VERSION, spec, files, indices: indicesDigest(indices) };
  return sha256Hex(Buffer.from(JSON.stringify(identity)));
}

async function fileIdentity(path: string): Promise<unknown> {
  try {
    const s = await stat(path);
    return { path, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
  } catch {
    return { path, absent: true };
  }
}

function indicesDigest(indices: SubsetIndices): string {
  const hash = createHash('sha256');
  for (const list of [indices.train, indices.val]) {
    hash.update(Buffer.from(Int32Array.from([list.length]).buffer));
    hash.update(Buffer.from(Int32Array.from(list).buffer));
  }
  return hash.digest('hex');
}

export function subsetCachePath(cacheDir: string, dataset: string, key: string): string {
  return join(cacheDir, `${dataset}-${key.slice(0, 32)}.subset`);
}

export async function writeSubsetCache(path: string, key: string, data: TaskData, verified: boolean, warnings: string[]): Promise<void> {
  const payload = [data.train.images, data.train.labels, data.val.images, data.val.labels];
  const hash = createHash('sha256');
  for (const part of payload) hash.update(part);
  const header: CacheHeader = {
    version: FORMAT_VERSION,
    key,
    dataset: data.dataset,
    channels: data.channels,
    height: data.height,
    width: data.width,
    trainCount: data.train.count,
    valCount: data.val.count,
    verified,
    warnings,
    payloadSha256: hash.digest('hex'),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length, 0);
  await writeFileAtomic(path, Buffer.concat([MAGIC, length, headerBytes, ...payload]));
}

/** Thrown (and caught by the loader) when an entry cannot be used; the message says why. */
export class CacheRejected extends Error {
  /** False when there simply is no entry; true when there is one that cannot be used. */
  constructor(
    message: string,
    readonly damaged = true,
  ) {
    super(message);
  }
}

/** Reads an entry built for `key`; throws CacheRejected when it is absent, stale or damaged. */
export async function readSubsetCache(path: string, key: string, spec: DatasetSpec): Promise<CachedSubset> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new CacheRejected('no cache entry', false);
  }
  const { header, payloadStart } = parseHeader(bytes);
  checkHeader(header, key, spec);
  return { data: splitPayload(bytes, payloadStart, header, spec), verified: header.verified, warnings: header.warnings };
}

function parseHeader(bytes: Buffer): { header: CacheHeader; payloadStart: number } {
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CacheRejected('not a subset cache file (bad magic)');
  }
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  if (headerLength > MAX_HEADER_BYTES || headerStart + headerLength > bytes.length) {
    throw new CacheRejected('header length out of range (truncated file?)');
  }
  let header: CacheHeader;
  try {
    header = JSON.parse(bytes.subarray(headerStart, headerStart + headerLength).toString('utf8')) as CacheHeader;
  } catch {
    throw new CacheRejected('header is not valid JSON');
  }
  return { header, payloadStart: headerStart + headerLength };
}

function checkHeader(header: CacheHeader, key: string, spec: DatasetSpec): void {
  if (typeof header !== 'object' || header === null) throw new CacheRejected('header is not an object');
  if (header.version !== FORMAT_VERSION) throw new CacheRejected(`format version ${header.version}, expected ${FORMAT_VERSION}`);
  if (header.key !== key) throw new CacheRejected('built for other sources or indices');
  const dims = [header.channels, header.height, header.width];
  if (header.dataset !== spec.name || dims.join() !== [spec.channels, spec.height, spec.width].join()) {
    throw new CacheRejected('dataset or image dimensions differ');
  }
  if (!Number.isSafeInteger(header.trainCount) || !Number.isSafeInteger(header.valCount)) {
    throw new CacheRejected('bad counts in header');
  }
  if (typeof header.verified !== 'boolean' || !Array.isArray(header.warnings)) throw new CacheRejected('bad header fields');
}

function splitPayload(bytes: Buffer, start: number, header: CacheHeader, spec: DatasetSpec): TaskData {
  const rowBytes = spec.channels * spec.height * spec.width;
  const sizes = [header.trainCount * rowBytes, header.trainCount, header.valCount * rowBytes, header.valCount];
  const expected = start + sizes.reduce((a, b) => a + b, 0);
  if (bytes.length !== expected) throw new CacheRejected(`payload is ${bytes.length - start} bytes, expected ${expected - start}`);
  if (sha256Hex(bytes.subarray(start)) !== header.payloadSha256) throw new CacheRejected('payload checksum mismatch');
  const parts: Uint8Array[] = [];
  let offset = start;
  for (const size of sizes) {
    // A copy, so each array owns its buffer (as on a cold load) and `.buffer` is safe to use.
    parts.push(new Uint8Array(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  const set = (images: Uint8Array, labels: Uint8Array, count: number): ImageSet => ({ images, labels, count });
  return {
    dataset: spec.name,
    channels: spec.channels,
    height: spec.height,
    width: spec.width,
    train: set(parts[0], parts[1], header.trainCount),
    val: set(parts[2], parts[3], header.valCount),
  };
}
