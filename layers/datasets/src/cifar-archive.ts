import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { list, ReadEntry } from 'tar';
import { temporaryPathFor } from './atomic-file';

/**
 * Extracts the wanted members of a (gzip) tar archive stored under `memberDir/`, each into a
 * temporary file beside its final place in `folder`. Nothing else in the archive is written:
 * no paths from the archive are trusted. Returns official name → temporary path; the
 * caller validates and renames them (and removes them on failure, also after a throw here,
 * through `written`).
 */
export async function extractMembers(
  archivePath: string,
  memberDir: string,
  wanted: readonly string[],
  folder: string,
  written: Map<string, string>,
): Promise<void> {
  const writes: Promise<void>[] = [];
  const onReadEntry = (entry: ReadEntry): void => {
    const name = memberName(entry.path, memberDir);
    if (name === undefined || !wanted.includes(name) || written.has(name) || !isRegularFile(entry)) {
      entry.resume();
      return;
    }
    const temporary = temporaryPathFor(join(folder, name));
    written.set(name, temporary);
    writes.push(pipeline(entry, createWriteStream(temporary)));
  };
  await list({ file: archivePath, strict: true, onReadEntry });
  await Promise.all(writes);
}

function memberName(path: string, memberDir: string): string | undefined {
  const normalised = path.replace(/^\.\//, '');
  const prefix = `${memberDir}/`;
  if (!normalised.startsWith(prefix)) return undefined;
  const name = normalised.slice(prefix.length);
  return name.includes('/') || name === '' ? undefined : name;
}

function isRegularFile(entry: ReadEntry): boolean {
  return entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
}
