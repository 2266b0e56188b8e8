import { basename, dirname } from 'node:path';
import { sha256Hex } from './checksums';
import { CifarProvenance, CIFAR_PROVENANCE_FILE } from './cifar-provenance';
import { DatasetError } from './dataset-error';
import { CifarDatasetSpec, DatasetSpec, howToGetGoodCopy, IdxDatasetSpec } from './dataset-catalog';
import type { DatasetName } from './task-data';

/**
 * - `verified`: the decompressed content matches the official checksum.
 * - `mismatch`: it does not: a damaged or foreign file.
 * - `no-official-checksum`: nothing official to compare with (CIFAR-10 batches not
 *   extracted from the official archive, e.g. the JPEG stand-in).
 */
export type VerificationStatus = 'verified' | 'mismatch' | 'no-official-checksum';

export interface FileVerification {
  officialName: string;
  path: string;
  status: VerificationStatus;
  /** SHA-256 of the decompressed content. */
  sha256: string;
  /** Why the file is not verified (empty when it is). */
  reason: string;
}

export type WarningSink = (message: string) => void;

/** What to do with files that are not verified. */
export interface VerificationPolicy {
  /** Use unverified files anyway (each use is reported through `onWarning`). Default false. */
  allowUnverified?: boolean;
  /** Receives warnings; defaults to `process.emitWarning`. */
  onWarning?: WarningSink;
}

/** Checks decompressed content against the catalog (IDX) or the extraction record (CIFAR-10). */
export function verifyContent(
  spec: DatasetSpec,
  officialName: string,
  path: string,
  raw: Uint8Array,
  cifarProvenance: CifarProvenance | undefined,
): FileVerification {
  const sha256 = sha256Hex(raw);
  const base = { officialName, path, sha256 };
  const reason =
    spec.format === 'idx'
      ? idxProblem(spec, officialName, raw.length, sha256)
      : cifarProblem(spec, officialName, path, sha256, cifarProvenance);
  if (reason === undefined) return { ...base, status: 'verified', reason: '' };
  return { ...base, status: reason.status, reason: reason.text };
}

interface Problem {
  status: Exclude<VerificationStatus, 'verified'>;
  text: string;
}

function idxProblem(spec: IdxDatasetSpec, officialName: string, rawBytes: number, sha256: string): Problem | undefined {
  const official = Object.values(spec.files).find((file) => file.name === officialName);
  if (official === undefined) return { status: 'no-official-checksum', text: `no official checksum for ${officialName}` };
  if (official.rawSha256 === sha256 && official.rawBytes === rawBytes) return undefined;
  return {
    status: 'mismatch',
    text:
      `its decompressed content (${rawBytes} bytes, SHA-256 ${sha256}) is not the official ${spec.name} ${officialName} ` +
      `(${official.rawBytes} bytes, SHA-256 ${official.rawSha256}): the file is damaged or not the official release`,
  };
}

function cifarProblem(
  spec: CifarDatasetSpec,
  officialName: string,
  path: string,
  sha256: string,
  provenance: CifarProvenance | undefined,
): Problem | undefined {
  const standIn = basename(dirname(path)) === 'cifar10_jpeg' ? ' (cifar10_jpeg is the lossy JPEG stand-in, not the official pixels)' : '';
  const unverifiable = (text: string): Problem => ({ status: 'no-official-checksum', text: text + standIn });
  if (provenance === undefined) {
    return unverifiable(
      `there is no record (${CIFAR_PROVENANCE_FILE}) that it was extracted from the official archive ` +
        `(MD5 ${spec.archive.md5}); CIFAR-10 publishes no per-file checksums, so it cannot be verified`,
    );
  }
  if (provenance.archiveMd5 !== spec.archive.md5) {
    return unverifiable(`it was extracted from an archive with MD5 ${provenance.archiveMd5}, not the official ${spec.archive.md5}`);
  }
  const recorded = provenance.files[officialName];
  if (recorded === undefined) return unverifiable(`${CIFAR_PROVENANCE_FILE} has no record of ${officialName}`);
  if (recorded.sha256 === sha256) return undefined;
  return {
    status: 'mismatch',
    text: `its content (SHA-256 ${sha256}) changed since it was extracted from the official archive (SHA-256 ${recorded.sha256})`,
  };
}

/** Throws for a file that is not verified, unless the policy allows unverified files. */
export function refuseUnverified(dataset: DatasetName, result: FileVerification, policy: VerificationPolicy): void {
  if (result.status === 'verified' || policy.allowUnverified) return;
  const code = result.status === 'mismatch' ? 'checksum_mismatch' : 'unverified';
  throw new DatasetError(
    code,
    `${result.path}: ${result.reason}. ${howToGetGoodCopy(dataset)} ` +
      'To use it anyway, pass allowUnverified: true (CLI: --allow-unverified-data).',
    result.path,
  );
}

/**
 * Refuses unverified files unless the policy allows them; allowed ones are reported through
 * `onWarning`, one warning per folder and reason. Returns true when every file is verified.
 */
export function enforceVerification(dataset: DatasetName, results: readonly FileVerification[], policy: VerificationPolicy): boolean {
  for (const result of results) refuseUnverified(dataset, result, policy);
  const problems = results.filter((result) => result.status !== 'verified');
  if (problems.length === 0) return true;
  const warn = policy.onWarning ?? defaultWarning;
  for (const [where, reason] of groupByFolderAndReason(problems)) {
    warn(`${dataset}: using UNVERIFIED data (allowUnverified is set): ${where}: ${reason}`);
  }
  return false;
}

/** [files described, reason] pairs, one per distinct folder and reason. */
function groupByFolderAndReason(problems: readonly FileVerification[]): [string, string][] {
  const groups = new Map<string, { folder: string; reason: string; names: string[] }>();
  for (const problem of problems) {
    const folder = dirname(problem.path);
    const key = `${folder}\n${problem.reason}`;
    const group = groups.get(key) ?? { folder, reason: problem.reason, names: [] };
    group.names.push(basename(problem.path));
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => [`${g.names.join(', ')} in ${g.folder}`, g.reason]);
}

function defaultWarning(message: string): void {
  process.emitWarning(message, 'DatasetWarning');
}
