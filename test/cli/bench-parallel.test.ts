import { parseParallelBenchArgv } from '../../cli/parallel-bench-options';
import type { ParallelBenchReport } from '../../cli/parallel-bench';
import { runCli } from './cli-harness';

/**
 * `ml-trainer bench --parallel` with the formula trainer (closed-form, instant): the
 * command's arguments and its JSON document. Its timings mean nothing here and are not checked.
 */
describe('ml-trainer bench --parallel', () => {
  it('plays the same seeds serially then concurrently, in-process and over a local server, and prints one JSON document', async () => {
    const { code, stdout, stderr } = await runCli(['bench', '--parallel', '--trainer', 'formula', '--via', 'both', '--seeds', '3,5', '--json']);
    expect(stderr).toContain('in-process: 2 episodes one after the other');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as ParallelBenchReport;
    expect(report).toMatchObject({ task: 'easy_mnist', seeds: [3, 5], policy: 'baseline', trainer: 'formula', workers: 'default' });
    expect(report.passes.map((p) => p.via)).toEqual(['in-process', 'server']);
    for (const pass of report.passes) {
      expect(pass.same_scores).toBe(true);
      expect(pass.ratio).toBeCloseTo(pass.concurrent_s / pass.serial_s, 2);
      expect(pass.serial_cpu_s).toBeGreaterThanOrEqual(0);
      expect(pass.concurrent_cpu_s).toBeGreaterThanOrEqual(0);
      for (const episodes of [pass.serial, pass.concurrent]) {
        expect(episodes.map((e) => e.seed)).toEqual([3, 5]);
        expect(episodes.every((e) => e.steps > 0 && e.epochs_used > 0 && typeof e.score === 'number')).toBe(true);
      }
    }
    expect(report.passes[0]!.serial.map((e) => e.score)).toEqual(report.passes[1]!.concurrent.map((e) => e.score));
    expect(report.loadavg_start).toHaveLength(3);
  }, 120_000);

  it('prints a table line per way without --json', async () => {
    const { code, stdout } = await runCli(['bench', '--parallel', '--trainer', 'formula', '--episodes', '2', '--workers', '1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/easy_mnist, 2 baseline episodes \(seeds 1, 2\), trainer formula, workers 1/);
    expect(stdout).toMatch(/in-process {2}serial \d+\.\d s, concurrent \d+\.\d s, ratio \d+\.\d\d×; CPU \d+\.\d s vs \d+\.\d s/);
  }, 60_000);

  it('refuses bad arguments with what is allowed', async () => {
    expect(parseParallelBenchArgv([])).toMatchObject({ task: 'easy_mnist', seeds: [1, 2], via: ['in-process'] });
    expect(parseParallelBenchArgv(['--episodes', '3', '--via', 'server', '--workers', '2'])).toMatchObject({ seeds: [1, 2, 3], via: ['server'], workers: 2 });
    const refused: [string[], RegExp][] = [
      [['--task', 'nope'], /unknown task "nope"; tasks: easy_mnist/],
      [['--episodes', '1'], /--episodes "1": .*2/],
      [['--episodes', '2', '--seeds', '1,2'], /--seeds or --episodes, not both/],
      [['--seeds', '4,4'], /a seed twice/],
      [['--seeds', '4'], /2 to 16 seeds/],
      [['--seeds', '1,x'], /--seeds "x": a whole number/],
      [['--via', 'cloud'], /--via must be in-process, server or both/],
      [['--workers', '0'], /--workers "0"/],
      [['--trainer', 'pytorch'], /--trainer must be tfjs or formula/],
    ];
    for (const [argv, message] of refused) expect(() => parseParallelBenchArgv(argv)).toThrow(message);
    const { code, stderr } = await runCli(['bench', '--parallel', '--via', 'cloud']);
    expect(code).toBe(2);
    expect(stderr).toContain('see ml-trainer bench --help');
  });
});
