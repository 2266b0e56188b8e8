import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { CoreError, parseEpisodeRecord, type EpisodeRecord } from '../layers/core/src';
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
const CHECKPOINT_FILE_PATTERN = /^checkpoint-[0-9a-f]{16}\.bin$/;

/** episode.json: the record, and the checkpoint beside it (its name, as saveEpisode writes it, and its SHA-256). */
const savedFileSchema = z.object({
  record: z.unknown().refine((value) => value !== undefined, 'is required'),
  checkpoint_file: z.string().regex(CHECKPOINT_FILE_PATTERN, 'must be a file name like checkpoint-<16 hex digits>.bin in the state directory'),
  checkpoint_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/**
 * The episode saved in `dir`, or null when there is none. Everything in the directory is
 * checked before it is used: a state file that is not what saveEpisode writes (empty, edited,
 * impossible values, a checkpoint outside the directory) is a UsageError naming the file, the
 * field and what is allowed.
 */
export async function loadSavedEpisode(dir: string): Promise<SavedEpisode | null> {
  const file = join(dir, RECORD_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`${file}: cannot be read (${(e as Error).message})`);
  }
  const saved = savedFileSchema.safeParse(parseJson(file, text));
  if (!saved.success) {
    const issues = saved.error.issues.map((i) => `${i.path.join('.') || '(the whole file)'}: ${i.message}`);
    throw new UsageError(`${file} is not a saved episode: ${issues.join('; ')}`);
  }
  let record: EpisodeRecord;
  try {
    record = parseEpisodeRecord(saved.data.record);
  } catch (e) {
    if (e instanceof CoreError) throw new UsageError(`${file}: record: ${e.message}`);
    throw e;
  }
  const path = await confinedCheckpoint(dir, file, saved.data.checkpoint_file);
  const checkpoint = await readFile(path);
  if (sha256(checkpoint) !== saved.data.checkpoint_sha256) {
    throw new UsageError(`${path} does not match the checksum its episode record names: the state directory is corrupt.`);
  }
  return { record, checkpoint };
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON (${(e as Error).message}); it must be the episode.json that ml-trainer step writes`);
  }
}

/** The checkpoint's path, refused unless it is a file directly in the state directory (also after following symlinks). */
async function confinedCheckpoint(dir: string, file: string, name: string): Promise<string> {
  const root = await realpath(dir);
  const path = resolve(root, name);
  if (dirname(path) !== root) throw new UsageError(`${file}: checkpoint_file must name a file in the state directory ${root}, got ${JSON.stringify(name)}`);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new UsageError(`${file}: checkpoint_file names ${path}, which does not exist: the state directory is incomplete.`);
  }
  if (dirname(real) !== root) throw new UsageError(`${file}: checkpoint_file ${path} leads outside the state directory (to ${real}); it must be a file in ${root}`);
  return real;
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
