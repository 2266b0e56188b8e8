import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { getTask, type TrainerFactory } from '../../core/src';
import { type DatasetName, findDatasetFolder, getDatasetSpec } from '../../datasets/src';
import { loadBenchData, type BenchData } from './bench-data';
import { runChildStep } from './child-step';
import { countThreadsNamed, staleDistSources, trainerSourceFingerprint } from './environment';
import { loadAverage, measureCheckpoint, poolOurRounds, startOurSession, timeOurRound, type OurSession, type TimedTrainer } from './our-timing';
import { ensurePyTorch, missingScriptMessage, poolPtTimings, runPtTiming, type PtDataDirs, type PythonInfo } from './pytorch';
import { type BenchEnvironment, type BenchReport, type BenchRow, type CheckpointFigures, type DataSource, formatPeak, isPyTorchTiming, type OurTiming, type ProcessFigures, type PyTorchTiming, type RowFlops, type SkippedFigures } from './report';
import { passRates } from './stats';
import type { MatMulPeak, ModelFlops } from '../../training/src';
import { datasetPresence, intraOpThreadsForTask, processIntraOpThreads, TrainerWorker } from '../../runtime/src';
import { measureServerLatency, type ServerLatencyFigures } from './server-latency';

export interface BenchOptions {
  tasks: string[];
  batchSizes: number[];
  epochs: number;
  warmup: number;
  /**
   * Rounds per task and batch size (default 1): ours, then PyTorch, `rounds` times over, each
   * round with its own warm-up epochs; the figures pool every round's measured epochs.
   */
  rounds?: number;
  data: 'auto' | DataSource;
  /** Resolved data directory. */
  dataDir: string;
  vsPytorch: boolean;
  /** An existing interpreter with torch (--python). */
  python?: string;
  /** The venv the bench creates when --python is not given. */
  venvDir: string;
  pytorchScript: string;
  /** Run the fresh-process figures (start → first epoch, peak RSS). */
  childProcesses: boolean;
  /** Time the non-training calls through a local server (server-latency.ts; default true). */
  serverLatency?: boolean;
  /** The ml-trainer entry the child processes run (default: bin/ml-trainer.js of repoRoot). */
  bin?: string;
  childTimeoutSeconds?: number;
  /** Threads for TensorFlow (intra- and inter-op, via TF_NUM_*_THREADS) when not already set; PyTorch uses 2. */
  threads?: number;
  batchNorm?: 'fused' | 'plain';
  /** n of the n×n matMuls timed for the peak (default PEAK_SIZES). */
  peakSizes?: number[];
  repoRoot: string;
  env: NodeJS.ProcessEnv;
  /** Progress (stderr). */
  log: (line: string) => void;
}

export class BenchSetupError extends Error {
  override readonly name = 'BenchSetupError';
}

const CHILD_EPOCHS = 5;
/** 4096² is the larger product (its best is a few % above 2048²'s), ~0.5 s a repeat on 2 cores. */
const PEAK_SIZES = [2048, 4096];
const PEAK_REPEATS = 3;

/**
 * The PyTorch figure of a task and batch size from its rounds: the successful rounds pooled,
 * or the error when every round failed; `failures` lists the failed rounds (1-based).
 */
export function poolPtRounds(rounds: readonly (PyTorchTiming | { error: string })[]): {
  pytorch: PyTorchTiming | { error: string };
  failures: { round: number; error: string }[];
} {
  const ok = rounds.filter(isPyTorchTiming);
  const failures = rounds.flatMap((r, i) => (isPyTorchTiming(r) ? [] : [{ round: i + 1, error: r.error }]));
  if (ok.length > 0) return { pytorch: poolPtTimings(ok), failures };
  const errors = failures.map((f) => f.error).filter((e, i, a) => a.indexOf(e) === i);
  return { pytorch: { error: errors.join('; ') || 'no PyTorch run' }, failures };
}

/** Sets TensorFlow's thread pools through the variables its C library reads when the first context is made. */
export function applyThreadEnv(env: NodeJS.ProcessEnv, threads: number): { set: boolean } {
  let set = false;
  for (const name of ['TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS']) {
    if (env[name] === undefined || env[name] === '') {
      env[name] = String(threads);
      set = true;
    }
  }
  return { set };
}

/** What one bench run shares across its tasks, and what it collects. */
interface BenchRun {
  options: BenchOptions;
  rounds: number;
  log: (line: string) => void;
  pythonInfo: PythonInfo | null;
  /** The torch version and thread count the PyTorch runs reported. */
  pytorch: { torch: string | null; threads: number | null };
  /** The folders the PyTorch script reads, by dataset. */
  ptDirs: PtDataDirs;
  /** The batch size of the checkpoint and fresh-process figures. */
  checkpointBatch: number;
  children: ChildRunner;
  createTfjsTrainerFactory: typeof import('../../training/src').createTfjsTrainerFactory;
  /** Rows without their FLOP rates, which need the run's peak (measured again at its end). */
  rows: Omit<BenchRow, 'flops'>[];
  checkpoints: CheckpointFigures[];
  processes: (ProcessFigures | SkippedFigures)[];
  data: BenchReport['data'];
  notes: string[];
}

/** One task's data and the trainers it is timed on. */
interface TaskBench {
  taskId: string;
  tag: string;
  data: BenchData;
  factory: TrainerFactory;
  spec: { taskId: string; seed: number };
  inWorker: boolean;
  taskThreads: number;
}

/** Runs the whole benchmark; see `ml-trainer bench --help`. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date();
  const loadStart = loadAverage();
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);

  // The fresh `ml-trainer run` processes choose their thread count as the product does
  // (the task's, layers/runtime/src/task-threads.ts) unless the caller's environment sets it:
  // copied before this process's own setting below.
  const childEnv: NodeJS.ProcessEnv = { ...options.env };
  // Thread pools are fixed when TensorFlow makes its context: set the variables before tfjs loads.
  const threadEnv = applyThreadEnv(process.env, options.threads ?? 2);
  const pythonInfo = options.vsPytorch ? await preparePyTorch(options) : null;

  const trainerAtStart = trainerSourceFingerprint(options.repoRoot);
  const training = await import('../../training/src'); // first: it sets TensorFlow's log level before tfjs-node loads
  const tf = await import('@tensorflow/tfjs-node');
  const peakAtStart = measurePeak(options, training.measureMatMulPeak, 'start');
  const notes: string[] = [];
  const run: BenchRun = {
    options,
    rounds,
    log: options.log,
    pythonInfo,
    pytorch: { torch: pythonInfo?.torch ?? null, threads: null },
    ptDirs: {},
    checkpointBatch: options.batchSizes.includes(64) ? 64 : options.batchSizes[0]!,
    children: new ChildRunner(options, childEnv, notes),
    createTfjsTrainerFactory: training.createTfjsTrainerFactory,
    rows: [],
    checkpoints: [],
    processes: [],
    data: [],
    notes,
  };
  for (const [ti, taskId] of options.tasks.entries()) await benchTask(run, taskId, `[${ti + 1}/${options.tasks.length}] ${taskId}`);

  const environment: BenchEnvironment = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    tfjs_node: tf.version['tfjs-node'] ?? null,
    tf_backend: tf.getBackend() ?? null,
    tf_threads: {
      intra_op: process.env.TF_NUM_INTRAOP_THREADS ?? null,
      inter_op: process.env.TF_NUM_INTEROP_THREADS ?? null,
      set_by_bench: threadEnv.set,
      tf_compute_threads_seen: countThreadsNamed('tf_Compute'),
    },
    batch_norm: options.batchNorm ?? 'fused (default)',
    trainer_sources: trainerAtStart,
    dist_stale_files: run.children.staleFiles,
    pytorch: pythonInfo ? { python: pythonInfo.python, torch: run.pytorch.torch, threads: run.pytorch.threads, script: options.pytorchScript } : null,
  };
  notes.push(...closingNotes(run, environment));
  const serverLatency = options.serverLatency === false ? null : await timeServerCalls(run, childEnv);
  const peakAtEnd = measurePeak(options, training.measureMatMulPeak, 'end');
  const peak = peakAtEnd.gflops > peakAtStart.gflops ? peakAtEnd : peakAtStart;

  return {
    kind: 'ml-trainer-bench',
    version: 1,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    settings: {
      tasks: options.tasks,
      batch_sizes: options.batchSizes,
      epochs: options.epochs,
      warmup: options.warmup,
      rounds,
      data: options.data,
      data_dir: options.dataDir,
      vs_pytorch: options.vsPytorch,
      child_processes: options.childProcesses,
    },
    environment,
    data: run.data,
    rows: run.rows.map((row) => {
      const data = run.data.find((d) => d.task === row.task)!;
      return { ...row, flops: rowFlops(row, training.modelFlops(getTask(row.task).model_type), data, peak.gflops) };
    }),
    peak,
    peak_gflops_start_end: [peakAtStart.gflops, peakAtEnd.gflops],
    flops_counted: training.FLOPS_COUNTED,
    checkpoints: run.checkpoints,
    processes: run.processes,
    server_latency: serverLatency,
    loadavg_start: loadStart,
    loadavg_end: loadAverage(),
    notes,
  };
}

/**
 * The machine's peak as the timed training sees it: this process's TensorFlow, on its thread
 * count. Measured before the tasks and after them: the report takes the higher, so a peak
 * disturbed by another process at one moment does not inflate every row's %.
 */
function measurePeak(options: BenchOptions, measure: typeof import('../../training/src').measureMatMulPeak, when: 'start' | 'end'): MatMulPeak {
  const sizes = options.peakSizes ?? PEAK_SIZES;
  options.log(`matMul peak (${when} of the run): ${sizes.map((n) => `${n}²`).join(', ')} on each kernel, best of ${PEAK_REPEATS} (load ${loadAverage()[0].toFixed(2)})`);
  const peak = measure({ sizes, repeats: PEAK_REPEATS, warmup: 1 });
  options.log(`  ${formatPeak(peak)}`);
  return peak;
}

/** The interpreter with torch (--python, or the bench's venv, made when missing). */
async function preparePyTorch(options: BenchOptions): Promise<PythonInfo> {
  if (!existsSync(options.pytorchScript)) throw new BenchSetupError(missingScriptMessage(options.pytorchScript));
  const info = await ensurePyTorch({ python: options.python, venvDir: options.venvDir, log: options.log });
  options.log(`pytorch: ${info.python} (torch ${info.torch}, numpy ${info.numpy})`);
  return info;
}

/** One task: its data, then every batch size (ours and PyTorch), then its fresh-process figures. */
async function benchTask(run: BenchRun, taskId: string, tag: string): Promise<void> {
  const { options, log } = run;
  log(`${tag}: loading data (${options.data === 'random' ? 'random' : `${options.dataDir}`})`);
  const data: BenchData = await loadBenchData(taskId, options.data, options.dataDir, (m) => log(`warning: ${m}`));
  run.data.push({ task: taskId, source: data.source, folder: data.folder, warnings: data.warnings, train_samples: data.data.train.count, val_samples: data.data.val.count });
  const task = getTask(taskId);
  run.ptDirs[task.dataset_name] = ptDataDir(options, task.dataset_name, data);
  const { factory, worker, inWorker, taskThreads } = taskTrainers(run, taskId, data);
  const bench: TaskBench = { taskId, tag, data, factory, spec: { taskId, seed: task.seed }, inWorker, taskThreads };
  for (const bs of options.batchSizes) run.rows.push(await benchBatchSize(run, bench, bs));
  worker?.close();
  if (options.childProcesses) run.processes.push(await run.children.figures(taskId, tag, data, run.checkpointBatch));
}

/** The folder the PyTorch script reads a dataset from. */
function ptDataDir(options: BenchOptions, dataset: DatasetName, data: BenchData): string {
  if (data.source === 'real') return data.folder!;
  return dataset === 'cifar10'
    ? join(options.repoRoot, '.no-cifar-for-random-timing') // pt_reference falls back to random CIFAR images
    : findDatasetFolder(options.dataDir, getDatasetSpec(dataset));
}

/**
 * As the product trains (layers/runtime): a task whose best thread count is not this
 * process's trains in a worker process with that count, reading the same files.
 */
function taskTrainers(run: BenchRun, taskId: string, data: BenchData) {
  const { options, notes } = run;
  const taskThreads = intraOpThreadsForTask(taskId);
  const inWorker = data.source === 'real' && taskThreads !== processIntraOpThreads() && !options.batchNorm;
  const worker = inWorker
    ? new TrainerWorker({ threads: taskThreads, dataset: { dataDir: options.dataDir, allowUnverified: true, autoFetch: false }, onWarning: () => undefined })
    : null;
  if (inWorker) {
    notes.push(`${taskId} trained on ${taskThreads} intra-op thread${taskThreads === 1 ? '' : 's'} in a worker process, as the product trains it (its CPU seconds are not counted)`);
  } else if (taskThreads !== processIntraOpThreads()) {
    notes.push(`${taskId} trained in the bench process on ${processIntraOpThreads()} intra-op threads (${data.source} data${options.batchNorm ? ', --batch-norm' : ''}); the product trains it on ${taskThreads}, in a worker process, which needs real data`);
  }
  const factory: TrainerFactory = worker ?? run.createTfjsTrainerFactory({
    loadTaskData: async () => data.data,
    ...(options.batchNorm ? { batchNorm: options.batchNorm } : {}),
  });
  return { factory, worker, inWorker, taskThreads };
}

/** A task at one batch size: `rounds` rounds of ours then PyTorch, pooled into its row. */
async function benchBatchSize(run: BenchRun, bench: TaskBench, bs: number): Promise<Omit<BenchRow, 'flops'>> {
  const { rounds } = run;
  const at = (round: number) => `${bench.tag} bs ${bs}${rounds > 1 ? ` round ${round}/${rounds}` : ''}`;
  const ourRounds: TimedTrainer[] = [];
  const ptRounds: (PyTorchTiming | { error: string })[] = [];
  let ours: OurTiming | null = null;
  // One trainer for every round: each round's warm-up epochs continue its training.
  let session: OurSession | null = null;
  try {
    for (let round = 1; round <= rounds; round++) {
      run.log(`${at(round)}: ours, ${run.options.warmup} warm-up + ${run.options.epochs} epochs (load ${loadAverage()[0].toFixed(2)})`);
      session ??= await startOurSession({ factory: bench.factory, spec: bench.spec, batchSize: bs, inWorker: bench.inWorker });
      ourRounds.push(await timeOursRound(run, bench, session));
      if (round === rounds) {
        ours = await finishOurs(run, bench, bs, ourRounds);
        session.trainer.dispose(); // before PyTorch runs
        session = null;
      }
      if (run.options.vsPytorch && run.pythonInfo) ptRounds.push(await timePyTorchRound(run, run.pythonInfo, bench.taskId, bs, at(round)));
    }
  } finally {
    session?.trainer.dispose();
  }
  const row: Omit<BenchRow, 'flops'> = {
    task: bench.taskId,
    model: getTask(bench.taskId).model_type,
    batch_size: bs,
    ours: ours!,
    ratio: null,
    round_medians: { ours: ourRounds.map((r) => r.timing.epoch.median) },
  };
  if (run.options.vsPytorch && run.pythonInfo) addPyTorch(run, row, ptRounds);
  return row;
}

/** One round of ours: the warm-up epochs, then the timed ones. */
async function timeOursRound(run: BenchRun, bench: TaskBench, session: OurSession): Promise<TimedTrainer> {
  const { options, log } = run;
  return timeOurRound(session, {
    epochs: options.epochs,
    warmup: options.warmup,
    data: bench.data.source,
    onEpoch: (i, r, warm) =>
      log(`  ours epoch ${i}${warm ? ' (warm-up)' : ''}: ${r.epoch_s.toFixed(3)} s (train ${r.train_s.toFixed(3)}, val ${r.val_s.toFixed(3)}, ${r.cpu_s === null ? `${bench.taskThreads} thread in a worker` : `cpu ${r.cpu_s.toFixed(2)}`}) val_acc ${r.val_accuracy.toFixed(4)}`),
  });
}

/** After our last round: the pooled timing and, at the checkpoint batch size, the checkpoint once, on the trainer that has just trained. */
async function finishOurs(run: BenchRun, bench: TaskBench, bs: number, ourRounds: TimedTrainer[]): Promise<OurTiming> {
  const pooled = poolOurRounds(ourRounds);
  if (bs === run.checkpointBatch) {
    run.log(`${bench.tag} bs ${bs}: checkpoint save / commit / restore`);
    const c = await measureCheckpoint({ factory: bench.factory, spec: bench.spec, timed: pooled, batchSize: bs });
    run.checkpoints.push(c);
    run.log(`  checkpoint ${c.bytes} bytes, save ${c.save_s.toFixed(3)} s, restore ${c.restore_s.toFixed(3)} s (+first eval ${c.first_eval_s.toFixed(3)} s), commit ${c.commit_s.toFixed(3)} s`);
  }
  return { ...pooled.timing, intra_op_threads: bench.inWorker ? bench.taskThreads : processIntraOpThreads(), in_worker: bench.inWorker };
}

/** One round of PyTorch on the same data folders; a failure is the round's figure, not the run's end. */
async function timePyTorchRound(run: BenchRun, python: PythonInfo, taskId: string, bs: number, at: string): Promise<PyTorchTiming | { error: string }> {
  const { options, log } = run;
  log(`${at}: pytorch, ${options.warmup} warm-up + ${options.epochs} epochs (load ${loadAverage()[0].toFixed(2)})`);
  try {
    const pt = await runPtTiming({
      python: python.python,
      script: options.pytorchScript,
      task: taskId,
      batchSize: bs,
      epochs: options.epochs,
      warmup: options.warmup,
      dataDirs: run.ptDirs,
      log: (line) => log(`  pytorch: ${line}`),
    });
    run.pytorch.torch = pt.torch ?? run.pytorch.torch;
    run.pytorch.threads = pt.threads ?? run.pytorch.threads;
    const ptRow = pt.rows.find((r) => r.task === taskId && r.batch_size === bs);
    if (!ptRow) throw new Error(`its output has no row for ${taskId} bs ${bs}`);
    return ptRow.timing;
  } catch (e) {
    log(`  pytorch failed: ${(e as Error).message}`);
    return { error: (e as Error).message };
  }
}

/** The row's PyTorch figures pooled from its rounds, and ours relative to them. */
function addPyTorch(run: BenchRun, row: Omit<BenchRow, 'flops'>, ptRounds: (PyTorchTiming | { error: string })[]): void {
  const pooled = poolPtRounds(ptRounds);
  row.pytorch = pooled.pytorch;
  row.round_medians.pytorch = ptRounds.map((r) => (isPyTorchTiming(r) ? r.epoch.median : null));
  if (isPyTorchTiming(pooled.pytorch)) {
    for (const f of pooled.failures) run.notes.push(`pytorch ${row.task} bs ${row.batch_size} round ${f.round}/${run.rounds} failed (${f.error}); its figures pool the other rounds`);
  }
  if (isPyTorchTiming(row.pytorch)) {
    const pt = row.pytorch.epoch;
    const o = row.ours.epoch;
    row.ratio = { median: o.median / pt.median, min: o.min / pt.min, max: o.max / pt.max };
  }
}

/**
 * A row's FLOPs: its model's count per sample × the samples of each pass (PyTorch trains the
 * same model on as many), and each side's rates from its median pass seconds.
 */
export function rowFlops(
  row: Pick<BenchRow, 'ours' | 'pytorch'>,
  model: Pick<ModelFlops, 'train' | 'forward'>,
  samples: { train_samples: number; val_samples: number },
  peakGflops: number,
): RowFlops {
  const passes = { train: model.train * samples.train_samples, val: model.forward * samples.val_samples };
  return {
    train_flops_per_sample: model.train,
    forward_flops_per_sample: model.forward,
    train_samples: samples.train_samples,
    val_samples: samples.val_samples,
    ours: passRates(passes, row.ours, peakGflops),
    ...(isPyTorchTiming(row.pytorch) ? { pytorch: passRates(passes, row.pytorch, peakGflops) } : {}),
  };
}

/**
 * The non-training calls through a real local server (`ml-trainer serve`, the same entry the
 * child processes run); with MNIST on disk each episode trains one untimed epoch first, so the
 * status calls read a record with history. A failure is the section's figure, not the run's end.
 */
async function timeServerCalls(run: BenchRun, env: NodeJS.ProcessEnv): Promise<ServerLatencyFigures | { error: string }> {
  const { options, log } = run;
  run.children.checkDist(); // the server runs dist/cli.js too
  const mnist = datasetPresence(options.dataDir, env).datasets.find((d) => d.dataset === 'mnist');
  log(`server latency: ml-trainer serve on a free port${mnist?.present ? ', one untimed easy_mnist epoch per episode' : ' (no MNIST files: episodes train nothing)'}`);
  try {
    return await measureServerLatency({
      bin: options.bin ?? join(options.repoRoot, 'bin', 'ml-trainer.js'),
      env,
      ...(mnist?.present ? { dataDir: options.dataDir } : {}),
      log,
    });
  } catch (e) {
    log(`  server latency failed: ${(e as Error).message}`);
    return { error: (e as Error).message };
  }
}

/** The fresh `ml-trainer run` processes (start → first epoch, peak RSS), and whether they run the trainer timed here. */
class ChildRunner {
  private readonly defaultBin: string;
  private readonly bin: string;
  private checked = false;
  /** Sources newer than dist/cli.js, which the children run. */
  staleFiles: string[] = [];

  constructor(
    private readonly options: BenchOptions,
    private readonly env: NodeJS.ProcessEnv,
    private readonly notes: string[],
  ) {
    this.defaultBin = join(options.repoRoot, 'bin', 'ml-trainer.js');
    this.bin = options.bin ?? this.defaultBin;
  }

  async figures(taskId: string, tag: string, data: BenchData, batchSize: number): Promise<ProcessFigures | SkippedFigures> {
    if (data.source !== 'real') return { task: taskId, skipped: 'random data: `ml-trainer run` trains on the real files only' };
    this.checkDist();
    this.options.log(`${tag}: fresh process \`ml-trainer run\` (configure + run_epochs ${CHILD_EPOCHS}, bs ${batchSize})`);
    return runChildStep({
      bin: this.bin,
      task: taskId,
      batchSize,
      epochs: CHILD_EPOCHS,
      dataDir: this.options.dataDir,
      allowUnverified: true,
      env: this.env,
      timeoutSeconds: this.options.childTimeoutSeconds ?? 1800,
      log: (line) => this.options.log(`  child: ${line}`),
    });
  }

  /** Before the first child: dist/cli.js older than the sources means the children run another trainer. */
  checkDist(): void {
    if (this.checked) return;
    this.checked = true;
    if (this.bin !== this.defaultBin) {
      this.notes.push(`the child processes ran ${this.bin}`);
      return;
    }
    const stale = staleDistSources(this.options.repoRoot);
    this.staleFiles = stale;
    if (stale.length > 0) {
      const msg = `the child processes run dist/cli.js, which is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}); \`npm run build\` refreshes it`;
      this.options.log(`warning: ${msg}`);
      this.notes.push(msg);
    }
  }
}

/** What the run's end tells about its figures: sources changed meanwhile, thread settings that did not take, the order of the runs. */
function closingNotes(run: BenchRun, environment: BenchEnvironment): string[] {
  const notes: string[] = [];
  const trainerAtStart = environment.trainer_sources;
  const trainerAtEnd = trainerSourceFingerprint(run.options.repoRoot);
  if (trainerAtStart && trainerAtEnd && trainerAtStart.sha256 !== trainerAtEnd.sha256) {
    notes.push(
      `the trainer's sources (layers/training/src) changed during the run (newest file ${trainerAtEnd.newest_mtime}); ` +
        'this process timed the version loaded at the start, child processes may have run another',
    );
  }
  const seen = environment.tf_threads.tf_compute_threads_seen;
  if (seen !== null && String(seen) !== environment.tf_threads.inter_op && environment.tf_threads.inter_op !== null) {
    notes.push(
      `TF_NUM_INTEROP_THREADS is ${environment.tf_threads.inter_op} but ${seen} tf_Compute threads run: TensorFlow was loaded before the bench set it`,
    );
  }
  const rounds = run.rounds;
  if (run.options.vsPytorch) {
    notes.push(
      rounds > 1
        ? `ours and PyTorch alternate per (task, batch size), ${rounds} rounds: ours, PyTorch, ours, PyTorch, … on the same data folders, each round with its own warm-up; the figures pool every round's measured epochs`
        : 'ours and PyTorch alternate per (task, batch size): ours first, then PyTorch, on the same data folders',
    );
  } else if (rounds > 1) {
    notes.push(`ours ran ${rounds} rounds per (task, batch size), each with its own warm-up on the same trainer; the figures pool every round's measured epochs`);
  }
  return notes;
}
