import { CifarBatch, cifarRecordImage, cifarRecordLabel, CIFAR_IMAGE_BYTES, CIFAR_RECORD_BYTES, parseCifarBatch } from './cifar-binary';
import { readCifarProvenance } from './cifar-provenance';
import { readMaybeGzip } from './compressed-file';
import { CifarDatasetSpec, DatasetSpec, howToGetGoodCopy, IdxDatasetSpec, imageBytes } from './dataset-catalog';
import { parseIdxImages, parseIdxLabels } from './idx';
import type { SourceFile } from './source-files';
import type { SubsetIndices } from './subset';
import type { ImageSet } from './task-data';
import { enforceVerification, FileVerification, refuseUnverified, VerificationPolicy, verifyContent } from './verification';

export interface DecodedSubset {
  train: ImageSet;
  val: ImageSet;
  /** True when every source file matched its official checksum. */
  verified: boolean;
}

/** Called once for every source file decoded (the expensive step a warm cache avoids). */
export type DecodeListener = (file: SourceFile) => void;

/**
 * Reads the official training split from `sources` (as located by `locateFiles` for
 * `trainFileNames(spec)`), checks structure and checksums, and copies out the subset rows
 * in index order (train rows, then val rows).
 */
export async function decodeSubset(
  spec: DatasetSpec,
  folder: string,
  sources: readonly SourceFile[],
  indices: SubsetIndices,
  policy: VerificationPolicy,
  onDecode: DecodeListener = () => {},
): Promise<DecodedSubset> {
  return spec.format === 'idx'
    ? decodeIdxSubset(spec, sources, indices, policy, onDecode)
    : decodeCifarSubset(spec, folder, sources, indices, policy, onDecode);
}

function emptySet(count: number, rowBytes: number): ImageSet {
  return { images: new Uint8Array(count * rowBytes), labels: new Uint8Array(count), count };
}

async function decodeIdxSubset(
  spec: IdxDatasetSpec,
  sources: readonly SourceFile[],
  indices: SubsetIndices,
  policy: VerificationPolicy,
  onDecode: DecodeListener,
): Promise<DecodedSubset> {
  const [imageSource, labelSource] = sources;
  const remedy = howToGetGoodCopy(spec.name);
  const rowBytes = imageBytes(spec);
  const results: FileVerification[] = [];

  onDecode(imageSource);
  const imageFile = await readMaybeGzip(imageSource.path, 16 + spec.trainCount * rowBytes, remedy);
  const images = parseIdxImages(imageFile.bytes, { path: imageSource.path, count: spec.trainCount, rows: spec.height, cols: spec.width, remedy });
  results.push(verifyContent(spec, imageSource.officialName, imageSource.path, imageFile.bytes, undefined));
  refuseUnverified(spec.name, results[0], policy);

  onDecode(labelSource);
  const labelFile = await readMaybeGzip(labelSource.path, 8 + spec.trainCount, remedy);
  const labels = parseIdxLabels(labelFile.bytes, { path: labelSource.path, count: spec.trainCount, remedy });
  results.push(verifyContent(spec, labelSource.officialName, labelSource.path, labelFile.bytes, undefined));
  const verified = enforceVerification(spec.name, results, policy);

  const pick = (rows: readonly number[]): ImageSet => {
    const set = emptySet(rows.length, rowBytes);
    rows.forEach((row, i) => {
      set.images.set(images.pixels.subarray(row * rowBytes, (row + 1) * rowBytes), i * rowBytes);
      set.labels[i] = labels[row];
    });
    return set;
  };
  return { train: pick(indices.train), val: pick(indices.val), verified };
}

async function decodeCifarSubset(
  spec: CifarDatasetSpec,
  folder: string,
  sources: readonly SourceFile[],
  indices: SubsetIndices,
  policy: VerificationPolicy,
  onDecode: DecodeListener,
): Promise<DecodedSubset> {
  const remedy = howToGetGoodCopy(spec.name);
  const rowBytes = CIFAR_IMAGE_BYTES;
  const provenance = await readCifarProvenance(folder);
  const train = emptySet(indices.train.length, rowBytes);
  const val = emptySet(indices.val.length, rowBytes);
  const results: FileVerification[] = [];

  for (const [batchIndex, source] of sources.entries()) {
    onDecode(source);
    const file = await readMaybeGzip(source.path, spec.recordsPerBatch * CIFAR_RECORD_BYTES, remedy);
    const batch = parseCifarBatch(file.bytes, { path: source.path, records: spec.recordsPerBatch, remedy });
    const result = verifyContent(spec, source.officialName, source.path, file.bytes, provenance);
    refuseUnverified(spec.name, result, policy);
    results.push(result);
    const first = batchIndex * spec.recordsPerBatch;
    copyBatchRows(batch, first, indices.train, train);
    copyBatchRows(batch, first, indices.val, val);
  }
  const verified = enforceVerification(spec.name, results, policy);
  return { train, val, verified };
}

/** Copies the rows of `wanted` that fall in this batch (global index `first` onwards) into `target`. */
function copyBatchRows(batch: CifarBatch, first: number, wanted: readonly number[], target: ImageSet): void {
  wanted.forEach((index, position) => {
    const record = index - first;
    if (record < 0 || record >= batch.records) return;
    target.images.set(cifarRecordImage(batch, record), position * CIFAR_IMAGE_BYTES);
    target.labels[position] = cifarRecordLabel(batch, record);
  });
}
