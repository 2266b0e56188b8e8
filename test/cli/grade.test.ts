import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fixtures from '../fixtures/grade-fixtures.json';
import { runCli } from './cli-harness';

describe('ml-trainer grade', () => {
  it.each(fixtures.cases.filter((_, i) => i % 7 === 0).map((c, i) => ({ i, ...c })))(
    'prints the seed grade for fixture $i (stdin)',
    async ({ metrics, grade }) => {
      const r = await runCli(['grade', '--metrics', '-'], JSON.stringify(metrics));
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(grade);
    },
  );

  it('reads a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grade-'));
    const file = join(dir, 'm.json');
    writeFileSync(file, JSON.stringify(fixtures.cases[3].metrics));
    const r = await runCli(['grade', '--metrics', file]);
    expect(JSON.parse(r.stdout)).toEqual(fixtures.cases[3].grade);
  });

  it.each([
    [['grade'], '', '--metrics'],
    [['grade', '--metrics', '-'], '{not json', 'not valid JSON'],
    [['grade', '--metrics', '-'], '{"task_id":"nope"}', 'task_id'],
    [['grade', '--metrics', '/nonexistent/file.json'], '', 'cannot read metrics'],
    [['grade', '--metrics', '-', '--bogus'], '{}', "Unknown option '--bogus'"],
  ])('bad input %j exits 2 with a clear message', async (argv, stdin, message) => {
    const r = await runCli(argv, stdin);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('has --help', async () => {
    const r = await runCli(['grade', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: ml-trainer grade --metrics');
  });
});

describe('ml-trainer tasks', () => {
  it('--json lists the three tasks with every field of the seed', async () => {
    const r = await runCli(['tasks', '--json']);
    const tasks = JSON.parse(r.stdout);
    expect(tasks.map((t: { task_id: string }) => t.task_id)).toEqual(['easy_mnist', 'medium_fashion', 'hard_cifar']);
    for (const t of tasks) {
      expect(Object.keys(t)).toEqual(
        expect.arrayContaining([
          'task_id', 'name', 'description', 'difficulty', 'model_type', 'dataset_name', 'max_epochs', 'seed',
          'target_metric', 'target_value', 'min_score_accuracy', 'max_score_accuracy',
        ]),
      );
    }
  });

  it('an unknown command lists the commands', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('commands: tasks, grade');
  });
});

describe('the installed bin', () => {
  it('runs the bundled CLI (built by npm install)', () => {
    const bin = join(__dirname, '../../bin/ml-trainer.js');
    const out = execFileSync(process.execPath, [bin, 'tasks', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toHaveLength(3);
  });
});
