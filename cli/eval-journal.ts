import { appendFile, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { evalEpisodeSchema, type EvalEpisode } from '../layers/agent/src';
import { writeFileAtomic } from '../layers/datasets/src';

/**
 * An eval's journal (JSONL): a header line with the options that decide which episodes are
 * played and how, then one line per finished episode, appended as each finishes. A killed
 * eval leaves at most a torn last line, which is ignored; `--resume` reads the finished
 * episodes back and plays the rest.
 */
const headerSchema = z.object({ type: z.literal('eval-journal'), schema_version: z.literal(1), options: z.record(z.string(), z.unknown()) });
const lineSchema = z.object({ type: z.literal('episode'), episode: evalEpisodeSchema });

export type JournalOptions = Record<string, unknown>;

export type JournalRead =
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'other-options'; differences: string[] }
  | { kind: 'ok'; episodes: EvalEpisode[] };

/** Starts a journal afresh (replacing an earlier one). */
export async function startJournal(path: string, options: JournalOptions): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify({ type: 'eval-journal', schema_version: 1, options })}\n`);
}

export async function appendToJournal(path: string, episode: EvalEpisode): Promise<void> {
  await appendFile(path, `${JSON.stringify({ type: 'episode', episode })}\n`);
}

/** The finished episodes of a journal written with the same options. */
export async function readJournal(path: string, options: JournalOptions): Promise<JournalRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: (error as Error).message };
  }
  const [first, ...rest] = text.split('\n');
  const header = headerSchema.safeParse(parseJson(first));
  if (!header.success) return { kind: 'unreadable', reason: 'its first line is not an eval journal header' };
  const differences = differingOptions(header.data.options, options);
  if (differences.length > 0) return { kind: 'other-options', differences };
  const episodes: EvalEpisode[] = [];
  for (const line of rest) {
    const parsed = lineSchema.safeParse(parseJson(line));
    if (parsed.success) episodes.push(parsed.data.episode);
  }
  return { kind: 'ok', episodes };
}

function parseJson(line: string | undefined): unknown {
  if (line === undefined || line.trim() === '') return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** "--seeds: 3 in the journal, 5 now", one per option that differs. */
export function differingOptions(journal: JournalOptions, now: JournalOptions): string[] {
  const names = [...new Set([...Object.keys(journal), ...Object.keys(now)])].sort();
  return names
    .filter((name) => JSON.stringify(journal[name]) !== JSON.stringify(now[name]))
    .map((name) => `--${name}: ${JSON.stringify(journal[name] ?? null)} in the journal, ${JSON.stringify(now[name] ?? null)} now`);
}
