import { DatasetError } from './dataset-error';

/** CIFAR-10 binary records: one label byte (0–9), then 1024 red, 1024 green, 1024 blue bytes. */
export const CIFAR_IMAGE_BYTES = 3 * 32 * 32;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;
const CIFAR_CLASSES = 10;

export interface CifarBatchExpectation {
  path: string;
  records: number;
  /** Appended to every error: how to get a good copy. */
  remedy: string;
}

/** One batch file: `records` labels and images (CHW planes), as views into the content where possible. */
export interface CifarBatch {
  records: number;
  bytes: Uint8Array;
}

/** Checks a batch file's size and every label byte; the records stay in `bytes` (see `cifarRecordImage`). */
export function parseCifarBatch(bytes: Uint8Array, expected: CifarBatchExpectation): CifarBatch {
  const fail = (what: string, found: string): never => {
    throw new DatasetError('corrupt_file', `${expected.path}: expected ${what}, found ${found}. ${expected.remedy}`, expected.path);
  };
  const expectedBytes = expected.records * CIFAR_RECORD_BYTES;
  if (bytes.length !== expectedBytes) {
    const records = (bytes.length / CIFAR_RECORD_BYTES).toFixed(2).replace(/\.00$/, '');
    const why = bytes.length < expectedBytes ? 'truncated file or not a CIFAR-10 batch' : 'not a CIFAR-10 batch';
    fail(
      `${expectedBytes} bytes (${expected.records} records of ${CIFAR_RECORD_BYTES} bytes)`,
      `${bytes.length} bytes (${records} records; ${why})`,
    );
  }
  for (let record = 0; record < expected.records; record++) {
    const label = bytes[record * CIFAR_RECORD_BYTES];
    if (label >= CIFAR_CLASSES) fail(`labels 0–${CIFAR_CLASSES - 1}`, `label byte ${label} in record ${record}`);
  }
  return { records: expected.records, bytes };
}

export function cifarRecordLabel(batch: CifarBatch, record: number): number {
  return batch.bytes[record * CIFAR_RECORD_BYTES];
}

/** The 3072 CHW bytes of a record, as a view. */
export function cifarRecordImage(batch: CifarBatch, record: number): Uint8Array {
  const start = record * CIFAR_RECORD_BYTES + 1;
  return batch.bytes.subarray(start, start + CIFAR_IMAGE_BYTES);
}
