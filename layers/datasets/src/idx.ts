import { DatasetError } from './dataset-error';

/** IDX magic numbers: 0x0803 = unsigned bytes, 3 dimensions; 0x0801 = unsigned bytes, 1 dimension. */
export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;
const IMAGES_HEADER_BYTES = 16;
const LABELS_HEADER_BYTES = 8;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols bytes, a view into the file's content. */
  pixels: Uint8Array;
}

export interface IdxExpectation {
  /** Where the bytes came from, for messages. */
  path: string;
  count: number;
  /** Appended to every error: how to get a good copy. */
  remedy: string;
}

export interface IdxImageExpectation extends IdxExpectation {
  rows: number;
  cols: number;
}

/** Parses an IDX image file (magic 2051, dims N × rows × cols, big-endian header) and checks every field. */
export function parseIdxImages(bytes: Uint8Array, expected: IdxImageExpectation): IdxImages {
  const fail = idxFailure(expected);
  const view = checkMagic(bytes, IDX_IMAGES_MAGIC, 'IDX images', fail);
  if (bytes.length < IMAGES_HEADER_BYTES) {
    fail(`an IDX image header of ${IMAGES_HEADER_BYTES} bytes`, `only ${bytes.length} bytes (truncated file)`);
  }
  const count = view.getUint32(4, false);
  const rows = view.getUint32(8, false);
  const cols = view.getUint32(12, false);
  if (rows !== expected.rows || cols !== expected.cols) {
    fail(`images of ${expected.rows}×${expected.cols}`, `images of ${rows}×${cols}`);
  }
  if (count !== expected.count) fail(`${expected.count} images`, `a header declaring ${count} images`);
  checkLength(bytes.length, IMAGES_HEADER_BYTES + count * rows * cols, `${count} images of ${rows}×${cols}`, fail);
  return { count, rows, cols, pixels: bytes.subarray(IMAGES_HEADER_BYTES) };
}

/** Parses an IDX label file (magic 2049, dim N) and checks every label is below `classes`. */
export function parseIdxLabels(bytes: Uint8Array, expected: IdxExpectation, classes = 10): Uint8Array {
  const fail = idxFailure(expected);
  const view = checkMagic(bytes, IDX_LABELS_MAGIC, 'IDX labels', fail);
  if (bytes.length < LABELS_HEADER_BYTES) {
    fail(`an IDX label header of ${LABELS_HEADER_BYTES} bytes`, `only ${bytes.length} bytes (truncated file)`);
  }
  const count = view.getUint32(4, false);
  if (count !== expected.count) fail(`${expected.count} labels`, `a header declaring ${count} labels`);
  checkLength(bytes.length, LABELS_HEADER_BYTES + count, `${count} labels`, fail);
  const labels = bytes.subarray(LABELS_HEADER_BYTES);
  const bad = labels.findIndex((label) => label >= classes);
  if (bad >= 0) fail(`labels 0–${classes - 1}`, `label ${labels[bad]} at index ${bad}`);
  return labels;
}

type Fail = (expected: string, found: string) => never;

function idxFailure(expected: IdxExpectation): Fail {
  return (what, found) => {
    throw new DatasetError('corrupt_file', `${expected.path}: expected ${what}, found ${found}. ${expected.remedy}`, expected.path);
  };
}

/** Checks the big-endian magic number first, so a foreign file is named as such before any size check. */
function checkMagic(bytes: Uint8Array, magic: number, kind: string, fail: Fail): DataView {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) fail(`${kind} magic number ${magic}`, `a file of only ${bytes.length} bytes (truncated file)`);
  const found = view.getUint32(0, false);
  if (found === magic) return view;
  const hint = found === IDX_IMAGES_MAGIC ? ' (an IDX image file)' : found === IDX_LABELS_MAGIC ? ' (an IDX label file)' : '';
  return fail(`${kind} magic number ${magic} (0x${hex(magic)})`, `0x${hex(found)}${hint}`);
}

function checkLength(actual: number, expected: number, what: string, fail: Fail): void {
  if (actual < expected) fail(`${expected} bytes for ${what}`, `${actual} bytes (truncated file)`);
  if (actual > expected) fail(`${expected} bytes for ${what}`, `${actual} bytes (${actual - expected} unexpected trailing bytes)`);
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
