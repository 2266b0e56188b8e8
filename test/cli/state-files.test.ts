import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli-harness';

/**
 * Issue 12, row 8: `ml-trainer step --state-dir d` on an empty or edited episode.json. Every
 * case answers exit 2 with a message naming the file and the field (never a stack trace, never
 * a step on impossible values), and leaves the directory as it was.
 */
type Saved = { record: any; checkpoint_file: string; checkpoint_sha256: string };
type Case = [what: string, edit: (dir: string, saved: Saved) => string | unknown, expected: RegExp];

const CONFIGURE = '{"tool":"configure_training","arguments":{}}';
const RUN = '{"tool":"run_epochs","arguments":{"num_epochs":2}}';
const outside = mkdtempSync(join(tmpdir(), 'mlt-outside-'));

const withRecord = (change: (record: any) => void) => (_dir: string, saved: Saved) => {
  change(saved.record);
  return saved;
};

const CASES: Case[] = [
  ['an empty file', () => '', /not valid JSON/],
  ['only whitespace', () => '  \n', /not valid JSON/],
  ['truncated JSON', (_d, saved) => JSON.stringify(saved).slice(0, 40), /not valid JSON/],
  ['null', () => 'null', /not a saved episode: \(the whole file\)/],
  ['an array', () => '[]', /not a saved episode: \(the whole file\)/],
  ['a number', () => '42', /not a saved episode: \(the whole file\)/],
  ['an empty object', () => '{}', /record: is required.*checkpoint_file/],
  ['no checkpoint_file', (_d, saved) => ({ ...saved, checkpoint_file: undefined }), /checkpoint_file: .*expected string/],
  ['no checkpoint_sha256', (_d, saved) => ({ ...saved, checkpoint_sha256: undefined }), /checkpoint_sha256: /],
  ['a checkpoint_sha256 that is not hex', (_d, saved) => ({ ...saved, checkpoint_sha256: 'zz' }), /checkpoint_sha256: must be 64 lowercase hex digits/],
  ['a checkpoint_file outside the directory (..)', (_d, saved) => ({ ...saved, checkpoint_file: '../outside.bin' }), /checkpoint_file: must be a file name like checkpoint-/],
  ['an absolute checkpoint_file', (_d, saved) => ({ ...saved, checkpoint_file: join(outside, 'checkpoint-0000000000000000.bin') }), /checkpoint_file: must be a file name/],
  [
    'a checkpoint_file that is a symlink out of the directory',
    (dir, saved) => {
      const target = join(outside, 'stolen.bin');
      writeFileSync(target, readFileSync(join(dir, saved.checkpoint_file)));
      rmSync(join(dir, saved.checkpoint_file));
      symlinkSync(target, join(dir, saved.checkpoint_file));
      return saved;
    },
    /leads outside the state directory/,
  ],
  ['a checkpoint_file that does not exist', (_d, saved) => ({ ...saved, checkpoint_file: 'checkpoint-0123456789abcdef.bin' }), /checkpoint_file names .* which does not exist/],
  ['a checkpoint whose content changed', (dir, saved) => (writeFileSync(join(dir, saved.checkpoint_file), 'tampered'), saved), /does not match the checksum/],
  ['the record as a string', (_d, saved) => ({ ...saved, record: 'hello' }), /record: Episode record has schema_version undefined/],
  ['another schema_version', withRecord((r) => (r.schema_version = 2)), /record: .*schema_version 2/],
  ['step_count 99 of 15', withRecord((r) => (r.step_count = 99)), /step_count: must be at most max_steps \(15\), got 99/],
  ['max_steps 99', withRecord((r) => (r.max_steps = 99)), /max_steps: must be 15, got 99/],
  ['a negative seed', withRecord((r) => (r.seed = -1)), /record: .*seed/],
  ['an unknown task', withRecord((r) => (r.task_id = 'nope')), /record: .*task_id/],
  ['an unknown status', withRecord((r) => (r.status = 'paused')), /record: .*status/],
  ['histories of unequal length', withRecord((r) => r.model.lr_history.push(0.1)), /model\.lr_history: must hold one value per epoch/],
  ['epochs beyond the budget', withRecord((r) => (r.budget_used = 1000)), /budget_used: must be at most the task's epoch budget \(100\), got 1000/],
  ['a steps log shorter than step_count', withRecord((r) => r.steps.pop()), /steps: must hold one entry per step/],
  ['a best epoch after the current one', withRecord((r) => (r.model.best_val_epoch = 50)), /model\.best_val_epoch: must be at most current_epoch/],
  ['a grade on an active episode', withRecord((r) => (r.grade = { score: 1, details: {} })), /grade: must be null exactly while the episode is active/],
];

describe('ml-trainer step refuses a damaged state directory with exit 2', () => {
  let template: string;
  beforeAll(async () => {
    template = mkdtempSync(join(tmpdir(), 'mlt-state-template-'));
    for (const action of [CONFIGURE, RUN]) {
      const made = await runCli(['step', '--state-dir', template, '--action', action, '--task', 'easy_mnist', '--trainer', 'formula']);
      expect(made.code).toBe(0);
    }
  }, 60_000);
  afterAll(() => {
    rmSync(template, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('has a case for each way found (27 here)', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(23);
  });

  it.each(CASES)('%s', async (_what, edit, expected) => {
    const dir = mkdtempSync(join(tmpdir(), 'mlt-state-'));
    try {
      for (const name of readdirSync(template)) writeFileSync(join(dir, name), readFileSync(join(template, name)));
      const file = join(dir, 'episode.json');
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Saved;
      const edited = edit(dir, saved);
      writeFileSync(file, typeof edited === 'string' ? edited : JSON.stringify(edited));
      const before = readFileSync(file, 'utf8');

      const result = await runCli(['step', '--state-dir', dir, '--action', RUN, '--trainer', 'formula']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr).toContain(dir);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
      expect(readFileSync(file, 'utf8')).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still steps an intact directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlt-state-'));
    try {
      for (const name of readdirSync(template)) writeFileSync(join(dir, name), readFileSync(join(template, name)));
      const result = await runCli(['step', '--state-dir', dir, '--action', RUN, '--trainer', 'formula']);
      expect([result.code, result.stderr]).toEqual([0, expect.any(String)]);
      expect(JSON.parse(readFileSync(join(dir, 'episode.json'), 'utf8')).record.step_count).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
