import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli } from '../cli/cli-harness';
import { clip } from './hostile-case';
import { hostileBodyText, hostileValue, toJsonText, type HostileValue } from './hostile-json';
import { countsReport, holds, record, settings, track, type CaseOutcome } from './tally';

/*
 * `ml-trainer step --state-dir` on hostile episode.json files (issue 12 item 10): the
 * command either runs the step (exit 0) or refuses the directory with exit 2 and a clear
 * message (no stack trace), never an unexpected error (exit 1); a refused directory is left
 * exactly as it was; an impossible record (more steps than the limit, a checkpoint outside
 * the directory) is always refused.
 */

let root: string;
let valid: string;
let saved: Record<string, HostileValue>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hostile-cli-'));
  valid = join(root, 'valid');
  const first = await runCli(['step', '--state-dir', valid, '--task', 'easy_mnist', '--trainer', 'formula', '--action', '{"tool":"configure_training"}']);
  if (first.code !== 0) throw new Error(first.stderr);
  saved = JSON.parse(await readFile(join(valid, 'episode.json'), 'utf8'));
  // A checkpoint outside the state directory whose checksum matches: only confinement refuses it.
  await cp(join(valid, String(saved.checkpoint_file)), join(root, 'outside.bin'));
});

afterAll(async () => {
  console.log(countsReport());
  await rm(root, { recursive: true, force: true });
});

/** Every file of a directory with a digest of its contents. */
async function directoryState(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const files = await Promise.all(names.map(async (n) => `${n}:${createHash('sha256').update(await readFile(join(dir, n))).digest('hex')}`));
  return files.join('\n');
}

let caseNumber = 0;

/** Copies the valid state directory, writes the episode.json text given, runs one step on it. */
async function stepOn(episodeJson: string, iface: string, mustRefuse: boolean, edit?: string): Promise<void> {
  const dir = join(root, `case-${caseNumber++}`);
  await cp(valid, dir, { recursive: true });
  await writeFile(join(dir, 'episode.json'), episodeJson);
  const before = await directoryState(dir);
  const request = edit === undefined ? `episode.json ${clip(episodeJson, 400)}` : `episode.json with ${edit}`;
  let outcome: CaseOutcome;
  try {
    const result = await runCli(['step', '--state-dir', dir, '--trainer', 'formula', '--json', '--action', '{"tool":"get_training_status"}']);
    const summary = `${request} → exit ${result.code}: ${clip(result.stderr.trim() || result.stdout.trim(), 400)}`;
    if (result.code === 0) outcome = mustRefuse ? { verdict: 'accepted', badShape: 'an impossible record was accepted', summary } : { verdict: 'accepted', summary };
    else if (result.code === 2) {
      const stack = /\n\s+at /.test(result.stderr);
      outcome = { verdict: 'rejected', summary, ...(stack ? { badShape: 'a stack trace instead of a clear message' } : {}) };
    } else outcome = { verdict: 'server_error', summary: `unexpected error: ${summary}` };
  } catch (error) {
    outcome = { verdict: 'crashed', summary: `${request} → the command threw: ${clip(String((error as Error)?.stack ?? error), 400)}` };
  }
  const after = await directoryState(dir);
  await rm(dir, { recursive: true, force: true });
  const problems = record(iface, outcome, before !== after);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

describe('hostile input: CLI state files (ml-trainer step --state-dir)', () => {
  it('any episode.json: runs the step or exits 2 with a clear message, leaving a refused directory untouched', async () => {
    await holds(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: fc.constant(null).chain(() => hostileBodyText(saved)) }, { weight: 1, arbitrary: hostileValue.map(toJsonText) }), async (text) => {
        await track(stepOn(text, 'CLI state files', false));
      }),
      settings(200),
    );
  });

  it('an impossible record (steps over the limit, negative or fractional counts, a checkpoint outside the directory) is always refused', async () => {
    const record = saved.record as Record<string, HostileValue>;
    const impossible = fc.oneof(
      fc.oneof(fc.integer({ min: 16, max: 1_000_000 }), fc.integer({ max: -1 }), fc.constantFrom(1.5, 2 ** 53, -0.5)).map((n) => ({ edit: `record.step_count = ${n}`, episode: { ...saved, record: { ...record, step_count: n } } })),
      fc.oneof(fc.integer({ max: -1 }), fc.constantFrom(0.5, 1e308, 101)).map((n) => ({ edit: `record.budget_used = ${n}`, episode: { ...saved, record: { ...record, budget_used: n } } })),
      fc.constantFrom('../outside.bin', '../valid/episode.json', '/etc/passwd', 'sub/../../x.bin', '..', '', '.').map((file) => ({ edit: `checkpoint_file = ${JSON.stringify(file)}`, episode: { ...saved, checkpoint_file: file } })),
      fc.constantFrom<HostileValue>(null, 0, 'x', [], {}).map((v) => ({ edit: `record = ${JSON.stringify(v)}`, episode: { ...saved, record: v } })),
    );
    await holds(
      fc.asyncProperty(impossible, async ({ edit, episode }) => {
        await track(stepOn(toJsonText(episode), 'CLI impossible state files', true, edit));
      }),
      settings(60),
    );
  });
});
