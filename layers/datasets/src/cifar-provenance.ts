import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';

/**
 * CIFAR-10's per-file checksums are not published; only the archive's MD5 is. So when
 * `fetch` extracts batches from an archive whose MD5 matched, it writes this marker
 * beside them, recording the archive and the SHA-256 of every file it extracted.
 * A batch is "verified" when the marker names the official archive MD5 and the
 * batch's content still has the SHA-256 recorded at extraction.
 */
export const CIFAR_PROVENANCE_FILE = '.official-archive.json';

export interface CifarProvenance {
  archiveUrl: string;
  archiveMd5: string;
  extractedAt: string;
  /** Official file name → SHA-256 and size of its content as extracted. */
  files: Record<string, { sha256: string; bytes: number }>;
}

export async function writeCifarProvenance(folder: string, provenance: CifarProvenance): Promise<void> {
  await writeFileAtomic(join(folder, CIFAR_PROVENANCE_FILE), `${JSON.stringify(provenance, null, 2)}\n`);
}

/** The marker in `folder`, or undefined when there is none or it is not a well-formed marker. */
export async function readCifarProvenance(folder: string): Promise<CifarProvenance | undefined> {
  let text: string;
  try {
    text = await readFile(join(folder, CIFAR_PROVENANCE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as unknown;
    return isProvenance(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isProvenance(value: unknown): value is CifarProvenance {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.archiveMd5 !== 'string' || typeof v.archiveUrl !== 'string') return false;
  if (typeof v.files !== 'object' || v.files === null) return false;
  return Object.values(v.files as Record<string, unknown>).every(
    (f) => typeof f === 'object' && f !== null && typeof (f as { sha256?: unknown }).sha256 === 'string',
  );
}
