import { open, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Trainer, TrainerFactory, TrainerSpec } from '../../core/src/trainer-port';
import { trainingConfigSchema } from '../../core/src/training-config';
import type { CheckpointFigures, DataSource, LoadAverage, OurTiming } from './report';
import { median, summarize } from './stats';

const now = (): number => performance.now() / 1000;
export const loadAverage = (): LoadAverage => loadavg() as LoadAverage;

export interface EpochRecord {
  epoch_s: number;
  /** CPU seconds of this process (user + system, all threads) during the epoch. */
  cpu_s: number;
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

/**
 * Builds the task's model with the default config at this batch size and times warm-up +
 * measured epochs. One epoch = trainEpoch + evaluate (+ keepBestWeights when validation
 * accuracy improved), wall clock: what pt_reference's `timing` measures.
 */
export async function timeOurEpochs(options: {
  factory: TrainerFactory;
  spec: TrainerSpec;
  batchSize: number;
  epochs: number;
  warmup: number;
  data: DataSource;
  onEpoch?: (index: number, record: EpochRecord, warmup: boolean) => void;
}): Promise<TimedTrainer> {
  const config = trainingConfigSchema.parse({ batch_size: options.batchSize });
  const trainer = await options.factory.create(options.spec);
  try {
    await trainer.buildModel(config);
    const loadBefore = loadAverage();
    const records: EpochRecord[] = [];
    let best = -Infinity;
    for (let i = 0; i < options.warmup + options.epochs; i++) {
      const c0 = process.cpuUsage();
      const t0 = now();
      const train = await trainer.trainEpoch(config.learning_rate);
      const val = await trainer.evaluate();
      if (val.accuracy > best) {
        best = val.accuracy;
        await trainer.keepBestWeights();
      }
      const epochS = now() - t0;
      const cpu = process.cpuUsage(c0);
      const record = { epoch_s: epochS, cpu_s: (cpu.user + cpu.system) / 1e6, train_s: train.seconds, val_s: val.seconds, val_loss: val.loss, val_accuracy: val.accuracy };
      records.push(record);
      options.onEpoch?.(i + 1, record, i < options.warmup);
    }
    const measured = records.slice(options.warmup);
    const timing: OurTiming = {
      data: options.data,
      epoch_s: measured.map((r) => r.epoch_s),
      warmup_epoch_s: records.slice(0, options.warmup).map((r) => r.epoch_s),
      epoch: summarize(measured.map((r) => r.epoch_s)),
      median_train_s: median(measured.map((r) => r.train_s)),
      median_val_s: median(measured.map((r) => r.val_s)),
      median_cpu_s: median(measured.map((r) => r.cpu_s)),
      loadavg_before: loadBefore,
      loadavg_after: loadAverage(),
      last_val_accuracy: records[records.length - 1]!.val_accuracy,
    };
    return { trainer, timing, records };
  } catch (e) {
    trainer.dispose();
    throw e;
  }
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
 * median of `repeats` rounds (a single sample is at the mercy of GC and other processes).
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
  const rounds: { save: number; commit: number; restore: number; firstEval: number; bytes: number; matches: boolean }[] = [];
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
      rounds.push({ save, commit, restore, firstEval, bytes: blob.byteLength, matches });
    } finally {
      restored.dispose();
    }
  }
  const med = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
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
    bytes: Math.max(...rounds.map((r) => r.bytes)),
    repeats: rounds.length,
    save_s: saveS,
    restore_s: restoreS,
    first_eval_s: firstEvalS,
    restore_ready_s: readyS,
    commit_s: commitS,
    total_s: totalS,
    step5_s: step5S,
    share_of_step5_pct: (100 * totalS) / step5S,
    restored_matches: rounds.every((r) => r.matches),
    samples: {
      save_s: rounds.map((r) => r.save),
      restore_s: rounds.map((r) => r.restore),
      first_eval_s: rounds.map((r) => r.firstEval),
      commit_s: rounds.map((r) => r.commit),
    },
  };
}
