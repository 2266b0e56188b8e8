import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DEFAULT_TRAINING_CONFIG, type TrainerFactory } from '../layers/core/src';
import { baselinePolicy, InProcessEnvironment, playEpisode, RestEnvironment, type AgentEnvironment } from '../layers/agent/src';
import type { CliIO } from './command';
import { startServe } from './commands/serve';
import { parseParallelBenchArgv, type BenchVia, type ParallelBenchOptions } from './parallel-bench-options';
import { processTreeCpuSeconds } from './process-tree-cpu';
import { trainerFactoryFor } from './training-options';

export interface EpisodeFigure {
  seed: number;
  seconds: number;
  score: number | null;
  epochs_used: number;
  steps: number;
}

export interface PassFigures {
  via: BenchVia;
  serial_s: number;
  concurrent_s: number;
  /**
   * CPU seconds of each pass (this process and its trainer workers; null off Linux): about
   * equal when running at once costs no extra work. On a machine busy with other sessions
   * the kernel gives this session a share of the CPU, and the wall-time ratio tends to 1.
   */
  serial_cpu_s: number | null;
  concurrent_cpu_s: number | null;
  /** concurrent_s / serial_s. */
  ratio: number;
  serial: EpisodeFigure[];
  concurrent: EpisodeFigure[];
  /** Both passes gave every seed the same score. */
  same_scores: boolean;
}

export interface ParallelBenchReport {
  task: string;
  seeds: number[];
  policy: 'baseline';
  trainer: string;
  workers: number | 'default';
  cpus: number;
  passes: PassFigures[];
  loadavg_start: number[];
  loadavg_end: number[];
}

/** An environment that plays over a fresh trainer pool or a fresh local server, and how to end it. */
interface OpenEnvironment {
  environment: AgentEnvironment;
  close(): Promise<void>;
}

async function openEnvironment(via: BenchVia, options: ParallelBenchOptions, io: CliIO): Promise<OpenEnvironment> {
  const quiet: CliIO = { ...io, stderr: new PassThrough() };
  if (via === 'in-process') {
    const trainers = await trainerFactoryFor(options.training, quiet, undefined, { workers: options.workers });
    return { environment: new InProcessEnvironment(trainers), close: async () => undefined };
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'mlt-bench-parallel-'));
  const handle = await startServe(
    { host: '127.0.0.1', port: 0, stateDir, training: options.training, log: false, access: { allowedHosts: [], allowedOrigins: [] }, workers: options.workers },
    quiet,
  );
  return {
    environment: new RestEnvironment({ url: handle.urls.url }),
    close: async () => {
      await handle.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function playTimed(environment: AgentEnvironment, task: string, seed: number): Promise<EpisodeFigure> {
  const start = performance.now();
  const result = await playEpisode({ environment, policy: baselinePolicy(), taskId: task, seed });
  return { seed, seconds: seconds(performance.now() - start), score: result.grade?.score ?? null, epochs_used: result.epochs_used, steps: result.steps };
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/** One pass: every seed on a fresh environment, one after the other or all at once; its seconds exclude opening the environment. */
async function timedPass(via: BenchVia, concurrent: boolean, options: ParallelBenchOptions, io: CliIO): Promise<{ seconds: number; cpuSeconds: number | null; episodes: EpisodeFigure[] }> {
  const open = await openEnvironment(via, options, io);
  // From the first episode's start: a server's own start-up is not an episode's time (a trainer pool's is).
  const start = performance.now();
  const cpuStart = processTreeCpuSeconds();
  try {
    const episodes: EpisodeFigure[] = [];
    if (concurrent) episodes.push(...(await Promise.all(options.seeds.map((seed) => playTimed(open.environment, options.task, seed)))));
    else for (const seed of options.seeds) episodes.push(await playTimed(open.environment, options.task, seed));
    const cpuEnd = processTreeCpuSeconds();
    const cpuSeconds = cpuStart === null || cpuEnd === null ? null : Math.round((cpuEnd - cpuStart) * 100) / 100;
    return { seconds: seconds(performance.now() - start), cpuSeconds, episodes };
  } finally {
    await open.close();
  }
}

/** Loads each seed's subset once (decoded-subset cache warm), so neither timed pass pays the first decode. */
async function warmSubsets(options: ParallelBenchOptions, io: CliIO): Promise<void> {
  const quiet: CliIO = { ...io, stderr: new PassThrough() };
  const trainers: TrainerFactory = await trainerFactoryFor(options.training, quiet, undefined, { workers: 1 });
  for (const seed of options.seeds) {
    const trainer = await trainers.create({ taskId: options.task, seed });
    await trainer.buildModel(DEFAULT_TRAINING_CONFIG);
    await trainer.evaluate();
    trainer.dispose();
  }
}

export async function runParallelBench(options: ParallelBenchOptions, io: CliIO): Promise<ParallelBenchReport> {
  const log = (line: string) => io.stderr.write(`${line}\n`);
  const loadStart = loadavg();
  log(`warm-up: loading the subsets of ${options.task} seeds ${options.seeds.join(', ')}`);
  await warmSubsets(options, io);
  const passes: PassFigures[] = [];
  for (const via of options.via) {
    log(`${via}: ${options.seeds.length} episodes one after the other`);
    const serial = await timedPass(via, false, options, io);
    log(`${via}: serial ${serial.seconds.toFixed(1)} s; now all ${options.seeds.length} at once`);
    const concurrent = await timedPass(via, true, options, io);
    log(`${via}: concurrent ${concurrent.seconds.toFixed(1)} s`);
    passes.push({
      via,
      serial_s: serial.seconds,
      concurrent_s: concurrent.seconds,
      serial_cpu_s: serial.cpuSeconds,
      concurrent_cpu_s: concurrent.cpuSeconds,
      ratio: Math.round((concurrent.seconds / serial.seconds) * 1000) / 1000,
      serial: serial.episodes,
      concurrent: concurrent.episodes,
      same_scores: serial.episodes.every((e, i) => e.score === concurrent.episodes[i]!.score),
    });
  }
  return {
    task: options.task,
    seeds: options.seeds,
    policy: 'baseline',
    trainer: options.training.trainer ?? 'tfjs',
    workers: options.workers ?? 'default',
    cpus: availableParallelism(),
    passes,
    loadavg_start: loadStart.map(round2),
    loadavg_end: loadavg().map(round2),
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function formatParallelBench(report: ParallelBenchReport): string {
  const lines = [
    `${report.task}, ${report.seeds.length} baseline episodes (seeds ${report.seeds.join(', ')}), trainer ${report.trainer}, workers ${report.workers}, ${report.cpus} CPUs`,
    ...report.passes.map(
      (p) =>
        `  ${p.via.padEnd(10)}  serial ${p.serial_s.toFixed(1)} s, concurrent ${p.concurrent_s.toFixed(1)} s, ratio ${p.ratio.toFixed(2)}×` +
        `${p.serial_cpu_s === null || p.concurrent_cpu_s === null ? '' : `; CPU ${p.serial_cpu_s.toFixed(1)} s vs ${p.concurrent_cpu_s.toFixed(1)} s`}` +
        `${p.same_scores ? '' : '  (scores differ between the passes!)'}`,
    ),
    `  load average ${report.loadavg_start.join(' ')} at the start, ${report.loadavg_end.join(' ')} at the end`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `ml-trainer bench --parallel ...`: exit 0 with the figures, 1 when the scores of the passes differ. */
export async function runParallelBenchCommand(argv: string[], io: CliIO): Promise<number> {
  const options = parseParallelBenchArgv(argv);
  const report = await runParallelBench(options, io);
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatParallelBench(report));
  if (report.passes.every((p) => p.same_scores)) return 0;
  io.stderr.write('ml-trainer bench --parallel: the same seeds scored differently in the two passes; training is not deterministic across pool layouts (report this)\n');
  return 1;
}
