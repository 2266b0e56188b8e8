import { open, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Trainer, type TrainerFactory, type TrainerSpec, type TrainingConfig, trainingConfigSchema } from '../../core/src';
import type { CheckpointFigures, DataSource, LoadAverage, OurTiming } from './report';
import { median, summarize } from './stats';

const now = (): number => performance.now() / 1000;
export const loadAverage = (): LoadAverage => loadavg() as LoadAverage;

export interface EpochRecord {
  epoch_s: number;
  /** CPU seconds of this process (user + system, all threads) during the epoch; null when the trainer runs in a worker process. */
  cpu_s: number | null;
  train_s: number;
  val_s: number;
  val_loss: number;
  val_accuracy: number;
}

export interface TimedTrainer {
  trainer: Trainer;
  timing: OurTiming;
  records: EpochRecord[];
}

/** A trainer with its model built at one batch size, timed round after round (see timeOurRound). */
export interface OurSession {
  trainer: Trainer;
  config: TrainingConfig;
  /** The best validation accuracy so far, over every round (keepBestWeights runs when it improves). */
  best: number;
  /** False when the trainer trains in a worker process, whose CPU time this process cannot see. */
  cpuVisible: boolean;
}

/** Builds the task's model with the default config at this batch size. */
export async function startOurSession(options: { factory: TrainerFactory; spec: TrainerSpec; batchSize: number; inWorker?: boolean }): Promise<OurSession> {
  const config = trainingConfigSchema.parse({ batch_size: options.batchSize });
  const trainer = await options.factory.create(options.spec);
  try {
    await trainer.buildModel(config);
  } catch (e) {
    trainer.dispose();
    throw e;
  }
  return { trainer, config, best: -Infinity, cpuVisible: !options.inWorker };
}

/**
 * The figures of a series of epochs: `measured` summarised, `warm` listed. Used for one round
 * and, with every round's epochs concatenated, for the pooled figures.
 */
export function summarizeOurEpochs(options: {
  measured: readonly EpochRecord[];
  warm: readonly EpochRecord[];
  data: DataSource;
  loadavgBefore: LoadAverage;
  loadavgAfter: LoadAverage;
}): OurTiming {
  const measured = options.measured;
  if (measured.length === 0) throw new RangeError('no measured epochs');
  return {
    data: options.data,
    epoch_s: measured.map((r) => r.epoch_s),
    warmup_epoch_s: options.warm.map((r) => r.epoch_s),
    epoch: summarize(measured.map((r) => r.epoch_s)),
    median_train_s: median(measured.map((r) => r.train_s)),
    median_val_s: median(measured.map((r) => r.val_s)),
    median_cpu_s: measured.every((r) => r.cpu_s !== null) ? median(measured.map((r) => r.cpu_s!)) : null,
    loadavg_before: options.loadavgBefore,
    loadavg_after: options.loadavgAfter,
    last_val_accuracy: measured[measured.length - 1]!.val_accuracy,
  };
}

/**
 * Times warm-up + measured epochs on the session's trainer (which keeps training where the
 * previous round stopped). One epoch = trainEpoch + evaluate (+ keepBestWeights when validation
 * accuracy improved), wall clock: what pt_reference's `timing` measures.
 */
export async function timeOurRound(
  session: OurSession,
  options: { epochs: number; warmup: number; data: DataSource; onEpoch?: (index: number, record: EpochRecord, warmup: boolean) => void },
): Promise<TimedTrainer> {
  const { trainer, config } = session;
  const loadBefore = loadAverage();
  const records: EpochRecord[] = [];
  for (let i = 0; i < options.warmup + options.epochs; i++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    const train = await trainer.trainEpoch(config.learning_rate);
    const val = await trainer.evaluate();
    if (val.accuracy > session.best) {
      session.best = val.accuracy;
      await trainer.keepBestWeights();
    }
    const epochS = now() - t0;
    const cpu = process.cpuUsage(c0);
    const record = { epoch_s: epochS, cpu_s: session.cpuVisible ? (cpu.user + cpu.system) / 1e6 : null, train_s: train.seconds, val_s: val.seconds, val_loss: val.loss, val_accuracy: val.accuracy };
    records.push(record);
    options.onEpoch?.(i + 1, record, i < options.warmup);
  }
  const timing = summarizeOurEpochs({
    measured: records.slice(options.warmup),
    warm: records.slice(0, options.warmup),
    data: options.data,
    loadavgBefore: loadBefore,
    loadavgAfter: loadAverage(),
  });
  return { trainer, timing, records };
}

/**
 * Pools rounds timed on one trainer (or several): every round's measured epochs together
 * (summary and medians over all of them), every warm-up epoch listed, the load before the
 * first round and after the last. `trainer` and `records` are the last round's (what
 * measureCheckpoint needs).
 */
export function poolOurRounds(rounds: readonly TimedTrainer[]): TimedTrainer {
  if (rounds.length === 0) throw new RangeError('no rounds to pool');
  const measured: EpochRecord[] = [];
  const warm: EpochRecord[] = [];
  for (const r of rounds) {
    const w = r.timing.warmup_epoch_s.length;
    warm.push(...r.records.slice(0, w));
    measured.push(...r.records.slice(w));
  }
  const first = rounds[0]!;
  const last = rounds[rounds.length - 1]!;
  const timing = summarizeOurEpochs({
    measured,
    warm,
    data: last.timing.data,
    loadavgBefore: first.timing.loadavg_before,
    loadavgAfter: last.timing.loadavg_after,
  });
  return { trainer: last.trainer, timing, records: last.records };
}

/** Writes bytes to a new temp file and fsyncs it: a stand-in for committing a checkpoint to storage. */
export async function simulatedCommit(bytes: Uint8Array): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'ml-trainer-bench-ckpt-'));
  try {
    const t0 = now();
    const fh = await open(join(dir, 'checkpoint.bin'), 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return now() - t0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Checkpoint cost on a trainer that has just trained: save, commit (temp file + fsync),
 * factory.restore and the restored trainer's first evaluate (its first forward), each the
 * median of `repeats` repeats (a single sample is at the mercy of GC and other processes).
 */
export async function measureCheckpoint(options: {
  factory: TrainerFactory;
  spec: TrainerSpec;
  timed: TimedTrainer;
  batchSize: number;
  repeats?: number;
}): Promise<CheckpointFigures> {
  const { trainer, timing, records } = options.timed;
  const want = records[records.length - 1]!.val_loss;
  const measured: { save: number; commit: number; restore: number; firstEval: number; bytes: number; matches: boolean }[] = [];
  for (let i = 0; i < Math.max(1, options.repeats ?? 3); i++) {
    let t0 = now();
    const blob = await trainer.saveCheckpoint();
    const save = now() - t0;
    const commit = await simulatedCommit(blob);
    t0 = now();
    const restored = await options.factory.restore(options.spec, blob);
    const restore = now() - t0;
    try {
      t0 = now();
      const val = await restored.evaluate();
      const firstEval = now() - t0;
      const matches = Math.abs(val.loss - want) <= 1e-6 * Math.max(1, Math.abs(want));
      measured.push({ save, commit, restore, firstEval, bytes: blob.byteLength, matches });
    } finally {
      restored.dispose();
    }
  }
  const med = (pick: (r: (typeof measured)[number]) => number) => median(measured.map(pick));
  const saveS = med((r) => r.save);
  const commitS = med((r) => r.commit);
  const restoreS = med((r) => r.restore);
  const firstEvalS = med((r) => r.firstEval);
  const readyS = Math.max(restoreS, restoreS + firstEvalS - timing.median_val_s);
  const totalS = saveS + readyS + commitS;
  const step5S = 5 * timing.epoch.median;
  return {
    task: options.spec.taskId,
    batch_size: options.batchSize,
    bytes: Math.max(...measured.map((r) => r.bytes)),
    repeats: measured.length,
    save_s: saveS,
    restore_s: restoreS,
    first_eval_s: firstEvalS,
    restore_ready_s: readyS,
    commit_s: commitS,
    total_s: totalS,
    step5_s: step5S,
    share_of_step5_pct: (100 * totalS) / step5S,
    restored_matches: measured.every((r) => r.matches),
    samples: {
      save_s: measured.map((r) => r.save),
      restore_s: measured.map((r) => r.restore),
      first_eval_s: measured.map((r) => r.firstEval),
      commit_s: measured.map((r) => r.commit),
    },
  };
}
