import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { AugmentationSetting, OptimizerKind, TrainingConfig } from '../../core/src';
import type { KernelChoice } from './layers/layer';
import type { ModelKind } from './model/architectures';
import type { RngState } from './rng-streams';

/** Layout documented in ../CHECKPOINT.md. */
export const CHECKPOINT_MAGIC = 'MLTRCKPT';
export const CHECKPOINT_VERSION = 2;
/** Versions this build reads: 1 has no `bestIsCurrent` (best weights, when kept, are always stored). */
const READABLE_VERSIONS: readonly number[] = [1, 2];
const PREAMBLE_BYTES = 16; // magic (8), version (4), header length (4)
const DIGEST_BYTES = 32;

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface OptimizerSnapshot {
  kind: OptimizerKind;
  /** Steps taken, per parameter. */
  steps: Record<string, number>;
}

export interface ModelSnapshot {
  config: TrainingConfig;
  optimizer: OptimizerSnapshot;
  /** param/…, buffer/…, optimizer/<slot>/…, best/param/…, best/buffer/… (PyTorch names). */
  tensors: NamedArray[];
  /** The best weights are the current ones, bit for bit: stored once, as param/… and buffer/…, with no best/… tensors. */
  bestIsCurrent: boolean;
}

export interface TrainerSnapshot {
  taskId: string;
  seed: number;
  modelKind: ModelKind;
  augmentation: AugmentationSetting;
  rng: RngState;
  /** Kernels the saving trainer used (informational: a restore uses its own factory's). */
  kernels: KernelChoice;
  /** TensorFlow's intra-op thread count in the saving process (informational, see CHECKPOINT.md). */
  intraOpThreads: number;
  model: ModelSnapshot | null;
}

export type CheckpointErrorCode = 'truncated' | 'foreign' | 'unsupported_version' | 'corrupt' | 'wrong_task' | 'invalid';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(readonly code: CheckpointErrorCode, message: string) {
    super(message);
  }
}

interface TensorIndexEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  offset: number;
  length: number;
}

interface Header {
  taskId: string;
  seed: number;
  modelKind: ModelKind;
  augmentation: AugmentationSetting;
  rng: { global: string; augment: string; shuffler: string | null };
  kernels: KernelChoice;
  intraOpThreads: number;
  model: null | { config: TrainingConfig; optimizer: OptimizerSnapshot; bestIsCurrent?: boolean; tensors: TensorIndexEntry[] };
}

if (endianness() !== 'LE') throw new Error('checkpoints store little-endian float32; this host is big-endian');

export function encodeCheckpoint(s: TrainerSnapshot): Uint8Array {
  const tensors = s.model?.tensors ?? [];
  let offset = 0;
  const index = tensors.map((t): TensorIndexEntry => {
    const entry = { name: t.name, shape: t.shape, dtype: 'float32' as const, offset, length: t.data.length };
    offset += t.data.byteLength;
    return entry;
  });
  const header: Header = {
    taskId: s.taskId,
    seed: s.seed,
    modelKind: s.modelKind,
    augmentation: s.augmentation,
    rng: { global: base64(s.rng.global), augment: base64(s.rng.augment), shuffler: s.rng.shuffler ? base64(s.rng.shuffler) : null },
    kernels: s.kernels,
    intraOpThreads: s.intraOpThreads,
    model: s.model ? { config: s.model.config, optimizer: s.model.optimizer, bestIsCurrent: s.model.bestIsCurrent, tensors: index } : null,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerBytes = align4(json.length);
  const dataStart = PREAMBLE_BYTES + headerBytes;
  const out = new Uint8Array(dataStart + offset + DIGEST_BYTES);
  out.set(Buffer.from(CHECKPOINT_MAGIC, 'ascii'), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, headerBytes, true);
  out.fill(0x20, PREAMBLE_BYTES, dataStart); // header padded with spaces
  out.set(json, PREAMBLE_BYTES);
  tensors.forEach((t, i) => out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), dataStart + index[i]!.offset));
  out.set(sha256(out.subarray(0, out.length - DIGEST_BYTES)), out.length - DIGEST_BYTES);
  return out;
}

/** Parses and verifies a checkpoint; `expected` is the task and seed it must belong to. */
export function decodeCheckpoint(blob: Uint8Array, expected: { taskId: string; seed: number }): TrainerSnapshot {
  if (blob.length < PREAMBLE_BYTES + DIGEST_BYTES) {
    throw new CheckpointError('truncated', `checkpoint is truncated: ${blob.length} bytes is shorter than any checkpoint`);
  }
  const magic = Buffer.from(blob.subarray(0, 8)).toString('latin1');
  if (magic !== CHECKPOINT_MAGIC) throw new CheckpointError('foreign', 'not a trainer checkpoint (wrong magic bytes)');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const version = view.getUint32(8, true);
  if (!READABLE_VERSIONS.includes(version)) {
    throw new CheckpointError('unsupported_version', `checkpoint format version ${version} is not supported (this build reads versions ${READABLE_VERSIONS.join(' and ')})`);
  }
  const digest = sha256(blob.subarray(0, blob.length - DIGEST_BYTES));
  if (!Buffer.from(digest).equals(Buffer.from(blob.subarray(blob.length - DIGEST_BYTES)))) {
    throw new CheckpointError('corrupt', 'checkpoint is corrupt or truncated: its SHA-256 does not match its content');
  }
  const header = parseHeader(blob, view.getUint32(12, true));
  if (header.taskId !== expected.taskId || header.seed !== expected.seed) {
    throw new CheckpointError('wrong_task', `checkpoint belongs to task ${header.taskId} (seed ${header.seed}), not ${expected.taskId} (seed ${expected.seed})`);
  }
  const dataStart = PREAMBLE_BYTES + view.getUint32(12, true);
  return snapshotOf(header, version, blob.subarray(dataStart, blob.length - DIGEST_BYTES));
}

function parseHeader(blob: Uint8Array, headerBytes: number): Header {
  if (PREAMBLE_BYTES + headerBytes > blob.length - DIGEST_BYTES) throw new CheckpointError('invalid', 'checkpoint header runs past the end');
  try {
    return JSON.parse(Buffer.from(blob.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes)).toString('utf8')) as Header;
  } catch (e) {
    throw new CheckpointError('invalid', `checkpoint header is not valid JSON: ${(e as Error).message}`);
  }
}

function snapshotOf(header: Header, version: number, data: Uint8Array): TrainerSnapshot {
  const index = header.model?.tensors ?? [];
  const expectedBytes = index.reduce((sum, t) => sum + 4 * t.length, 0);
  if (data.length !== expectedBytes) throw new CheckpointError('invalid', `checkpoint holds ${data.length} data bytes, its index describes ${expectedBytes}`);
  let expectedOffset = 0;
  const tensors = index.map((t) => {
    if (t.dtype !== 'float32' || t.offset !== expectedOffset || t.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new CheckpointError('invalid', `checkpoint tensor ${t.name} has an inconsistent index entry`);
    }
    expectedOffset += 4 * t.length;
    const bytes = data.slice(t.offset, t.offset + 4 * t.length); // a copy, so the Float32Array is aligned
    return { name: t.name, shape: t.shape, data: new Float32Array(bytes.buffer, bytes.byteOffset, t.length) };
  });
  return {
    taskId: header.taskId,
    seed: header.seed,
    modelKind: header.modelKind,
    augmentation: header.augmentation,
    kernels: header.kernels,
    intraOpThreads: header.intraOpThreads,
    rng: {
      global: fromBase64(header.rng.global),
      augment: fromBase64(header.rng.augment),
      shuffler: header.rng.shuffler === null ? null : fromBase64(header.rng.shuffler),
    },
    model: header.model ? { config: header.model.config, optimizer: header.model.optimizer, tensors, bestIsCurrent: bestIsCurrentOf(header.model, version) } : null,
  };
}

function bestIsCurrentOf(model: NonNullable<Header['model']>, version: number): boolean {
  if (version === 1) return false;
  if (typeof model.bestIsCurrent !== 'boolean') throw new CheckpointError('invalid', 'checkpoint header lacks model.bestIsCurrent');
  return model.bestIsCurrent;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
