import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { getTask } from '../../core/src/tasks';
import type { TrainerFactory } from '../../core/src/trainer-port';
import { getDatasetSpec } from '../../datasets/src/dataset-catalog';
import { findDatasetFolder } from '../../datasets/src/source-files';
import type { DatasetName } from '../../datasets/src/task-data';
import { loadBenchData, type BenchData } from './bench-data';
import { runChildStep } from './child-step';
import { countThreadsNamed, staleDistSources, trainerSourceFingerprint } from './environment';
import { loadAverage, measureCheckpoint, poolOurRounds, startOurSession, timeOurRound, type OurSession, type TimedTrainer } from './our-timing';
import { ensurePyTorch, missingScriptMessage, poolPtTimings, runPtTiming, type PtDataDirs, type PythonInfo } from './pytorch';
import type { BenchEnvironment, BenchReport, BenchRow, CheckpointFigures, DataSource, OurTiming, ProcessFigures, PyTorchTiming, SkippedFigures } from './report';
import { isPyTorchTiming } from './report';
import { intraOpThreadsForTask, processIntraOpThreads } from '../../runtime/src/task-threads';
import { TrainerWorker } from '../../runtime/src/worker-trainer-factory';

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
  /** The ml-trainer entry the child processes run (default: bin/ml-trainer.js of repoRoot). */
  bin?: string;
  childTimeoutSeconds?: number;
  /** Threads for TensorFlow (intra- and inter-op, via TF_NUM_*_THREADS) when not already set; PyTorch uses 2. */
  threads?: number;
  batchNorm?: 'fused' | 'plain';
  repoRoot: string;
  env: NodeJS.ProcessEnv;
  /** Progress (stderr). */
  log: (line: string) => void;
}

export class BenchSetupError extends Error {
  override readonly name = 'BenchSetupError';
}

const CHILD_EPOCHS = 5;

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

/** Runs the whole benchmark; see `ml-trainer bench --help`. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date();
  const loadStart = loadAverage();
  const log = options.log;
  const notes: string[] = [];
  const threads = options.threads ?? 2;
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);

  // The fresh `ml-trainer run` processes choose their thread count as the product does
  // (the task's, layers/runtime/src/task-threads.ts) unless the caller's environment sets it:
  // copied before this process's own setting below.
  const childEnv: NodeJS.ProcessEnv = { ...options.env };
  // Thread pools are fixed when TensorFlow makes its context: set the variables before tfjs loads.
  const threadEnv = applyThreadEnv(process.env, threads);

  let pythonInfo: PythonInfo | null = null;
  if (options.vsPytorch) {
    if (!existsSync(options.pytorchScript)) throw new BenchSetupError(missingScriptMessage(options.pytorchScript));
    pythonInfo = await ensurePyTorch({ python: options.python, venvDir: options.venvDir, log });
    log(`pytorch: ${pythonInfo.python} (torch ${pythonInfo.torch}, numpy ${pythonInfo.numpy})`);
  }

  const trainerAtStart = trainerSourceFingerprint(options.repoRoot);
  const tf = await import('@tensorflow/tfjs-node');
  const { createTfjsTrainerFactory } = await import('../../training/src/trainer-factory');
  const defaultBin = join(options.repoRoot, 'bin', 'ml-trainer.js');
  const bin = options.bin ?? defaultBin;
  let stale: string[] = [];
  let checkedDist = false;
  /** Before the first child: dist/cli.js older than the sources means the children run another trainer. */
  const checkDist = () => {
    if (checkedDist) return;
    checkedDist = true;
    if (bin !== defaultBin) {
      notes.push(`the child processes ran ${bin}`);
      return;
    }
    stale = staleDistSources(options.repoRoot);
    if (stale.length > 0) {
      const msg = `the child processes run dist/cli.js, which is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}); \`npm run build\` refreshes it`;
      log(`warning: ${msg}`);
      notes.push(msg);
    }
  };

  const rows: BenchRow[] = [];
  const checkpoints: CheckpointFigures[] = [];
  const processes: (ProcessFigures | SkippedFigures)[] = [];
  const dataNotes: BenchReport['data'] = [];
  const ptDirs: PtDataDirs = {};
  let ptTorch: string | null = pythonInfo?.torch ?? null;
  let ptThreads: number | null = null;
  const checkpointBatch = options.batchSizes.includes(64) ? 64 : options.batchSizes[0]!;

  for (const [ti, taskId] of options.tasks.entries()) {
    const task = getTask(taskId);
    const tag = `[${ti + 1}/${options.tasks.length}] ${taskId}`;
    log(`${tag}: loading data (${options.data === 'random' ? 'random' : `${options.dataDir}`})`);
    const data: BenchData = await loadBenchData(taskId, options.data, options.dataDir, (m) => log(`warning: ${m}`));
    dataNotes.push({ task: taskId, source: data.source, folder: data.folder, warnings: data.warnings });
    const dataset = task.dataset_name as DatasetName;
    ptDirs[dataset] =
      data.source === 'real'
        ? data.folder!
        : dataset === 'cifar10'
          ? join(options.repoRoot, '.no-cifar-for-random-timing') // pt_reference falls back to random CIFAR images
          : findDatasetFolder(options.dataDir, getDatasetSpec(dataset));
    // As the product trains (layers/runtime): a task whose best thread count is not this
    // process's trains in a worker process with that count, reading the same files.
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
    const factory: TrainerFactory = worker ?? createTfjsTrainerFactory({
      loadTaskData: async () => data.data,
      ...(options.batchNorm ? { batchNorm: options.batchNorm } : {}),
    });
    const spec = { taskId, seed: task.seed };

    for (const bs of options.batchSizes) {
      const at = (round: number) => `${tag} bs ${bs}${rounds > 1 ? ` round ${round}/${rounds}` : ''}`;
      const ourRounds: TimedTrainer[] = [];
      const ptRounds: (PyTorchTiming | { error: string })[] = [];
      let ours: OurTiming | null = null;
      // One trainer for every round: each round's warm-up epochs continue its training.
      let session: OurSession | null = null;
      try {
        for (let round = 1; round <= rounds; round++) {
          log(`${at(round)}: ours, ${options.warmup} warm-up + ${options.epochs} epochs (load ${loadAverage()[0].toFixed(2)})`);
          session ??= await startOurSession({ factory, spec, batchSize: bs, inWorker });
          ourRounds.push(
            await timeOurRound(session, {
              epochs: options.epochs,
              warmup: options.warmup,
              data: data.source,
              onEpoch: (i, r, warm) =>
                log(`  ours epoch ${i}${warm ? ' (warm-up)' : ''}: ${r.epoch_s.toFixed(3)} s (train ${r.train_s.toFixed(3)}, val ${r.val_s.toFixed(3)}, ${r.cpu_s === null ? `${taskThreads} thread in a worker` : `cpu ${r.cpu_s.toFixed(2)}`}) val_acc ${r.val_accuracy.toFixed(4)}`),
            }),
          );
          if (round === rounds) {
            // After our last round: the checkpoint, once, on the trainer that has just trained; then free it before PyTorch runs.
            const pooled = poolOurRounds(ourRounds);
            ours = { ...pooled.timing, intra_op_threads: inWorker ? taskThreads : processIntraOpThreads(), in_worker: inWorker };
            if (bs === checkpointBatch) {
              log(`${tag} bs ${bs}: checkpoint save / commit / restore`);
              const c = await measureCheckpoint({ factory, spec, timed: pooled, batchSize: bs });
              checkpoints.push(c);
              log(`  checkpoint ${c.bytes} bytes, save ${c.save_s.toFixed(3)} s, restore ${c.restore_s.toFixed(3)} s (+first eval ${c.first_eval_s.toFixed(3)} s), commit ${c.commit_s.toFixed(3)} s`);
            }
            session.trainer.dispose();
            session = null;
          }
          if (options.vsPytorch && pythonInfo) {
            log(`${at(round)}: pytorch, ${options.warmup} warm-up + ${options.epochs} epochs (load ${loadAverage()[0].toFixed(2)})`);
            try {
              const pt = await runPtTiming({
                python: pythonInfo.python,
                script: options.pytorchScript,
                task: taskId,
                batchSize: bs,
                epochs: options.epochs,
                warmup: options.warmup,
                dataDirs: ptDirs,
                log: (line) => log(`  pytorch: ${line}`),
              });
              ptTorch = pt.torch ?? ptTorch;
              ptThreads = pt.threads ?? ptThreads;
              const ptRow = pt.rows.find((r) => r.task === taskId && r.batch_size === bs);
              if (!ptRow) throw new Error(`its output has no row for ${taskId} bs ${bs}`);
              ptRounds.push(ptRow.timing);
            } catch (e) {
              ptRounds.push({ error: (e as Error).message });
              log(`  pytorch failed: ${(e as Error).message}`);
            }
          }
        }
      } finally {
        session?.trainer.dispose();
      }
      const row: BenchRow = {
        task: taskId,
        model: task.model_type,
        batch_size: bs,
        ours: ours!,
        ratio: null,
        round_medians: { ours: ourRounds.map((r) => r.timing.epoch.median) },
      };
      if (options.vsPytorch && pythonInfo) {
        const pooled = poolPtRounds(ptRounds);
        row.pytorch = pooled.pytorch;
        row.round_medians.pytorch = ptRounds.map((r) => (isPyTorchTiming(r) ? r.epoch.median : null));
        if (isPyTorchTiming(pooled.pytorch)) {
          for (const f of pooled.failures) notes.push(`pytorch ${taskId} bs ${bs} round ${f.round}/${rounds} failed (${f.error}); its figures pool the other rounds`);
        }
        if (isPyTorchTiming(row.pytorch)) {
          const pt = row.pytorch.epoch;
          const o = row.ours.epoch;
          row.ratio = { median: o.median / pt.median, min: o.min / pt.min, max: o.max / pt.max };
        }
      }
      rows.push(row);
    }
    worker?.close();

    if (options.childProcesses) {
      if (data.source !== 'real') {
        processes.push({ task: taskId, skipped: 'random data: `ml-trainer run` trains on the real files only' });
      } else {
        checkDist();
        log(`${tag}: fresh process \`ml-trainer run\` (configure + run_epochs ${CHILD_EPOCHS}, bs ${checkpointBatch})`);
        const p = await runChildStep({
          bin,
          task: taskId,
          batchSize: checkpointBatch,
          epochs: CHILD_EPOCHS,
          dataDir: options.dataDir,
          allowUnverified: true,
          env: childEnv,
          timeoutSeconds: options.childTimeoutSeconds ?? 1800,
          log: (line) => log(`  child: ${line}`),
        });
        processes.push(p);
      }
    }
  }

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
    dist_stale_files: stale,
    pytorch: pythonInfo ? { python: pythonInfo.python, torch: ptTorch, threads: ptThreads, script: options.pytorchScript } : null,
  };
  const trainerAtEnd = trainerSourceFingerprint(options.repoRoot);
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
  if (options.vsPytorch) {
    notes.push(
      rounds > 1
        ? `ours and PyTorch alternate per (task, batch size), ${rounds} rounds: ours, PyTorch, ours, PyTorch, … on the same data folders, each round with its own warm-up; the figures pool every round's measured epochs`
        : 'ours and PyTorch alternate per (task, batch size): ours first, then PyTorch, on the same data folders',
    );
  } else if (rounds > 1) {
    notes.push(`ours ran ${rounds} rounds per (task, batch size), each with its own warm-up on the same trainer; the figures pool every round's measured epochs`);
  }

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
    data: dataNotes,
    rows,
    checkpoints,
    processes,
    loadavg_start: loadStart,
    loadavg_end: loadAverage(),
    notes,
  };
}
