import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateCosts, renderCostTable, type CostReport } from '../../layers/cloud/src';
import { runCli } from './cli-harness';

/** No PRICE_* from the machine's environment: the defaults. */
const cleanEnv = { PRICE_LAMBDA_GB_SECOND_USD: '', PRICE_LAMBDA_REQUEST_USD: '' };

describe('ml-trainer cost', () => {
  it('prints its help', async () => {
    const r = await runCli(['cost', '--help']);
    expect(r.code).toBe(0);
    for (const option of ['--memory', '--threads', '--task', '--arch', '--price', '--max-step-seconds', '--pick-max-memory', '--json']) expect(r.stdout).toContain(option);
  });

  it('prints the table with the pick, then what it assumed', async () => {
    const r = await runCli(['cost'], '', cleanEnv);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`${renderCostTable(evaluateCosts())}\n`)).toBe(true);
    expect(r.stdout).toContain('Assumed (not measured here)');
  });

  it('gives the whole model as JSON, for the memories, threads and tasks asked', async () => {
    const r = await runCli(['cost', '--json', '--memory', '1769,3538', '--threads', '2', '--task', 'hard_cifar'], '', cleanEnv);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as CostReport;
    expect(report.rows.map((row) => [row.task, row.memory_mb, row.threads])).toEqual([
      ['hard_cifar', 1769, 2],
      ['hard_cifar', 3538, 2],
    ]);
    // 3538 MB is above the default pick range: the pick stays at 1769 MB.
    expect(report.pick).toMatchObject({ memory_mb: 1769, threads: 2 });
    expect(report.rows[0]!.cost.total_usd).toBeGreaterThan(0);
  });

  it('prices arm64 and overridden prices', async () => {
    const total = async (args: string[]) => {
      const r = await runCli(['cost', '--json', '--memory', '1769', '--task', 'hard_cifar', ...args], '', cleanEnv);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as CostReport).rows[0]!.cost;
    };
    const x86 = await total([]);
    const arm = await total(['--arch', 'arm64']);
    expect(arm.training_usd / x86.training_usd).toBeCloseTo(0.0000133334 / 0.0000166667, 10);
    const free = await total(['--price', 'lambdaGbSecondX86Usd=0']);
    expect(free.training_usd).toBe(0);
    const fromEnv = await runCli(['cost', '--json', '--memory', '1769', '--task', 'hard_cifar'], '', { PRICE_LAMBDA_GB_SECOND_USD: '0' });
    expect((JSON.parse(fromEnv.stdout) as CostReport).rows[0]!.cost.training_usd).toBe(0);
  });

  it.each([
    [['--memory', '100'], '--memory must be a whole number from 128 to 10240, got "100"'],
    [['--memory', ''], '--memory needs a comma-separated list'],
    [['--threads', '4'], '--threads takes 1 or 2'],
    [['--task', 'nope'], 'unknown task "nope"; tasks: '],
    [['--arch', 'sparc'], '--arch must be x86_64 or arm64, got "sparc"'],
    [['--price', 'gold=1'], '--price "gold=1": name one of lambdaGbSecondX86Usd'],
    [['--price', 's3PutUsd=2'], '--price: s3PutUsd must be a price in USD between 0 and 1, got 2'],
    [['--max-step-seconds', '0'], '--max-step-seconds must be a whole number from 1 to 900'],
    [['--pick-max-memory', '1024'], '--pick-max-memory must be a whole number from 1769 to 10240'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with exit code 2 and the next step', async (args, message) => {
    const r = await runCli(['cost', ...args], '', cleanEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('see ml-trainer cost --help');
  });

  it('refuses a malformed PRICE_LAMBDA_GB_SECOND_USD, naming it', async () => {
    const r = await runCli(['cost'], '', { PRICE_LAMBDA_GB_SECOND_USD: 'cheap' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PRICE_LAMBDA_GB_SECOND_USD');
  });
});

describe("README's cost table", () => {
  it('is what `ml-trainer cost` renders (re-render it after re-measuring)', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const begin = '<!-- ml-trainer cost: begin -->\n';
    const end = '<!-- ml-trainer cost: end -->';
    expect(readme).toContain(begin);
    const copy = readme.slice(readme.indexOf(begin) + begin.length, readme.indexOf(end));
    expect(copy).toBe(`${renderCostTable(evaluateCosts())}\n`);
  });

  it('no longer carries the old per-episode claims', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    expect(readme).not.toMatch(/\$0\.003, \$0\.04 and\s+\$0\.06/);
  });
});
