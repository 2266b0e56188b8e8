import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEpisodeRecord, type EpisodeRecord } from '../layers/core/src';
import { UsageError } from './command';

/**
 * An episode saved in a directory between steps: the trainer checkpoint, then the record
 * naming the checkpoint's SHA-256. Both are written to a temporary name and renamed, the
 * record last, so a step killed half-way leaves the previous step's state intact.
 */
export interface SavedEpisode {
  record: EpisodeRecord;
  checkpoint: Uint8Array;
}

const RECORD_FILE = 'episode.json';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

export async function loadSavedEpisode(dir: string): Promise<SavedEpisode | null> {
  let text: string;
  try {
    text = await readFile(join(dir, RECORD_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const saved = JSON.parse(text) as { record: unknown; checkpoint_file: string; checkpoint_sha256: string };
  const record = parseEpisodeRecord(saved.record);
  const checkpoint = await readFile(join(dir, saved.checkpoint_file));
  if (sha256(checkpoint) !== saved.checkpoint_sha256) {
    throw new UsageError(`${join(dir, saved.checkpoint_file)} does not match the checksum its episode record names: the state directory is corrupt.`);
  }
  return { record, checkpoint };
}

export async function saveEpisode(dir: string, episode: SavedEpisode): Promise<void> {
  await mkdir(dir, { recursive: true });
  const digest = sha256(episode.checkpoint);
  const checkpointFile = `checkpoint-${digest.slice(0, 16)}.bin`;
  await writeAtomic(join(dir, checkpointFile), episode.checkpoint);
  const saved = { record: episode.record, checkpoint_file: checkpointFile, checkpoint_sha256: digest };
  await writeAtomic(join(dir, RECORD_FILE), JSON.stringify(saved));
  await removeSupersededCheckpoints(dir, checkpointFile);
}

async function removeSupersededCheckpoints(dir: string, current: string): Promise<void> {
  const stale = (await readdir(dir)).filter((f) => f.startsWith('checkpoint-') && f !== current);
  await Promise.all(stale.map((f) => rm(join(dir, f), { force: true })));
}
