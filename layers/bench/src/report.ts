import type { MatMulPeak } from '../../training/src';
import type { PassRates, Summary } from './stats';
import type { ServerLatencyFigures } from './server-latency';
import { renderServerLatency } from './server-latency-report';
import { renderTable } from './table';

export { renderTable };

/** Where a task's images came from. */
export type DataSource = 'real' | 'random';

/** 1-, 5- and 15-minute load averages (os.loadavg()). */
export type LoadAverage = [number, number, number];

/** Seconds per epoch (train pass + validation pass) of one side at one task and batch size. */
export interface EpochTiming {
  /** The measured epochs (after the warm-up epochs), wall clock, train + val. */
  epoch_s: number[];
  /** The warm-up epochs (not in the summary). */
  warmup_epoch_s: number[];
  epoch: Summary;
  median_train_s: number;
  median_val_s: number;
  loadavg_before: LoadAverage;
  loadavg_after: LoadAverage;
}

export interface OurTiming extends EpochTiming {
  data: DataSource;
  /**
   * CPU seconds per epoch of the whole process (median): about 2 × wall when both cores were
   * ours. Null when the task trained in a worker process (another thread count), whose CPU
   * time the bench does not see.
   */
  median_cpu_s: number | null;
  /** TensorFlow intra-op threads the task trained with, and whether in a worker process. */
  intra_op_threads?: number;
  in_worker?: boolean;
  /** Validation accuracy after the last epoch (a sanity check that it trains). */
  last_val_accuracy: number;
}

export interface PyTorchTiming extends EpochTiming {
  real_data: boolean;
  standin: boolean;
  median_cpu_s: number | null;
}

/** Each round's median epoch (seconds), in the order the rounds ran. */
export interface RoundMedians {
  ours: number[];
  /** null for a round whose PyTorch run failed; absent without --vs-pytorch. */
  pytorch?: (number | null)[];
}

/**
 * One task and batch size. With several rounds (settings.rounds), `ours` and `pytorch` pool the
 * measured epochs of every round (epoch_s: round after round, settings.epochs each).
 */
export interface BenchRow {
  task: string;
  model: string;
  batch_size: number;
  ours: OurTiming;
  /** Absent without --vs-pytorch; { error } when PyTorch's run failed (in every round). */
  pytorch?: PyTorchTiming | { error: string };
  /** ours / PyTorch of the (pooled) median, the min and the max (null without a PyTorch figure). */
  ratio: { median: number; min: number; max: number } | null;
  /** Each round's medians (one entry per round; also with a single round). */
  round_medians: RoundMedians;
  flops: RowFlops;
}

/**
 * A row's FLOPs per pass: the model's count per sample (training/src/model/flops.ts, see the
 * report's flops_counted) × the pass's samples (the task's subset), and each side's rate from
 * its median pass seconds. PyTorch trains the same model on as many samples.
 */
export interface RowFlops {
  train_flops_per_sample: number;
  forward_flops_per_sample: number;
  train_samples: number;
  val_samples: number;
  ours: PassRates;
  /** With a PyTorch timing. */
  pytorch?: PassRates;
}

/** Checkpoint cost of one task, measured on the trainer right after its timed epochs (medians of `repeats` repeats; measured once, whatever --rounds). */
export interface CheckpointFigures {
  task: string;
  batch_size: number;
  bytes: number;
  repeats: number;
  save_s: number;
  /** factory.restore alone. */
  restore_s: number;
  /** The restored trainer's first evaluate() (its first forward: data upload, kernels, one whole val pass). */
  first_eval_s: number;
  /** restore_s + first_eval_s − the steady val pass median: restore until a forward is ready (never below restore_s). */
  restore_ready_s: number;
  /** Write the blob to a temp file and fsync it (a stand-in for committing it to storage). */
  commit_s: number;
  /** save + restore_ready + commit. */
  total_s: number;
  /** 5 × the median epoch of this task and batch size. */
  step5_s: number;
  /** total_s as a percentage of step5_s. */
  share_of_step5_pct: number;
  /** The restored model's validation loss equals the original's (same weights), in every round. */
  restored_matches: boolean;
  /** Every repeat's figures. */
  samples: { save_s: number[]; restore_s: number[]; first_eval_s: number[]; commit_s: number[] };
}

/** A fresh `ml-trainer run` child training one 5-epoch step (configure + run_epochs 5). */
export interface ProcessFigures {
  task: string;
  batch_size: number;
  /** From spawn to the call's first progress line ("epoch 1 (1/5)") on the child's stderr. */
  start_to_first_epoch_s: number | null;
  /** That epoch's own seconds as the child printed them (train + val). */
  first_epoch_s: number | null;
  /** From spawn to the child's exit. */
  wall_s: number;
  /** process.resourceUsage().maxRSS of the child at exit (bytes). */
  peak_rss_bytes: number | null;
  /** VmHWM from /proc/self/status at exit (bytes; Linux only). */
  vm_hwm_bytes: number | null;
  /** CPU seconds (user + system) of the child over its life. */
  cpu_s: number | null;
  exit_code: number | null;
  error?: string;
}

export interface SkippedFigures {
  task: string;
  skipped: string;
}

export interface BenchEnvironment {
  node: string;
  platform: string;
  cpus: number;
  tfjs_node: string | null;
  tf_backend: string | null;
  tf_threads: { intra_op: string | null; inter_op: string | null; set_by_bench: boolean; tf_compute_threads_seen: number | null };
  batch_norm: string;
  trainer_sources: { files: number; sha256: string; newest_mtime: string | null } | null;
  dist_stale_files: string[];
  pytorch: { python: string; torch: string | null; threads: number | null; script: string } | null;
}

export interface BenchSettings {
  tasks: string[];
  batch_sizes: number[];
  epochs: number;
  warmup: number;
  /** Rounds of ours then PyTorch per task and batch size (--rounds); each round has its own warm-up. */
  rounds: number;
  data: 'auto' | DataSource;
  data_dir: string;
  vs_pytorch: boolean;
  child_processes: boolean;
}

export interface BenchReport {
  kind: 'ml-trainer-bench';
  version: 1;
  started_at: string;
  finished_at: string;
  settings: BenchSettings;
  environment: BenchEnvironment;
  /** Each task's data, and the samples of its train and val passes (the task's subset). */
  data: { task: string; source: DataSource; folder: string | null; warnings: string[]; train_samples: number; val_samples: number }[];
  rows: BenchRow[];
  /** The fastest float32 matMul TensorFlow ran in this process, the better of the measurements before and after the tasks: what the rows' % refer to. */
  peak: MatMulPeak;
  /** The peak measured before the tasks and after them (GFLOP/s). */
  peak_gflops_start_end: [number, number];
  /** What the rows' FLOPs count (and leave out). */
  flops_counted: string;
  checkpoints: CheckpointFigures[];
  processes: (ProcessFigures | SkippedFigures)[];
  /** The non-training calls through a local server (server-latency.ts); null when skipped (--no-server), { error } when it failed. */
  server_latency: ServerLatencyFigures | { error: string } | null;
  loadavg_start: LoadAverage;
  loadavg_end: LoadAverage;
  notes: string[];
}

export function isPyTorchTiming(value: BenchRow['pytorch']): value is PyTorchTiming {
  return value !== undefined && !('error' in value);
}

export function isSkipped(value: ProcessFigures | SkippedFigures): value is SkippedFigures {
  return 'skipped' in value;
}

// ---------------------------------------------------------------- formatting

const secs = (s: number | null | undefined): string => (s === null || s === undefined ? '-' : s < 10 ? s.toFixed(3) : s.toFixed(2));
const load = (l: LoadAverage): string => l[0].toFixed(2);

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}


/** "rounds: ours 4.550/4.610/4.400, pytorch 6.660/6.700/failed": each round's median epoch. */
export function formatRoundMedians(m: RoundMedians): string {
  const list = (values: (number | null)[]) => values.map((v) => (v === null ? 'failed' : secs(v))).join('/');
  return `rounds: ours ${list(m.ours)}${m.pytorch ? `, pytorch ${list(m.pytorch)}` : ''}`;
}

const mflop = (flops: number): string => (flops / 1e6).toPrecision(3);
const gflops = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(1));

/** "112.3 (67%)": a pass's GFLOP/s and its share of the peak. */
function rate(r: PassRates | undefined, pass: 'train' | 'val'): string {
  const g = r?.[`${pass}_gflops`];
  const pct = r?.[`${pass}_pct_of_peak`];
  if (g === null || g === undefined) return '-';
  return pct === null || pct === undefined ? gflops(g) : `${gflops(g)} (${pct.toFixed(0)}%)`;
}

/** "161.2 GFLOP/s (_MklMatMul 2048² float32, best of 5 after 1 warm-up, 2 intra-op threads)". */
export function formatPeak(peak: MatMulPeak): string {
  return `${gflops(peak.gflops)} GFLOP/s (${peak.kernel} ${peak.size}² float32, best of ${peak.repeats} after ${peak.warmup} warm-up, ` +
    `${peak.intra_op_threads} intra-op thread${peak.intra_op_threads === 1 ? '' : 's'})`;
}

/** "MatMul 2048² 155.1, _MklMatMul 2048² 157.0": the products that were not the peak. */
function otherPeakSamples(peak: MatMulPeak): string {
  return peak.samples
    .filter((s) => s.size !== peak.size || s.kernel !== peak.kernel)
    .map((s) => `${s.kernel} ${s.size}² ${gflops(s.gflops)}`)
    .join(', ');
}

/**
 * TensorFlow splits a product evenly over its threads, so another process on one of the two
 * cores halves the figure: a peak measured twice that differs this much was disturbed.
 */
function peakSpread(start: number, end: number): string {
  const spread = Math.max(start, end) / Math.min(start, end) - 1;
  return spread > 0.15 ? ` (${(100 * spread).toFixed(0)}% apart: shared cores, the % are unreliable)` : '';
}

/** Breaks `text` at spaces into lines of at most `width` columns, each after `indent`. */
export function wrapText(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return line ? [...lines, indent + line] : lines;
}

/** The achieved GFLOP/s table: each pass's FLOPs over its median seconds, and % of the peak. */
function formatFlops(report: BenchReport, anyPt: boolean): string[] {
  const header = ['task', 'bs', 'MFLOP/sample', 'samples', 'ours train', 'ours val'];
  if (anyPt) header.push('pytorch train', 'pytorch val');
  const rows = report.rows.map((r) => {
    const f = r.flops;
    const cells = [
      r.task,
      String(r.batch_size),
      `${mflop(f.train_flops_per_sample)}/${mflop(f.forward_flops_per_sample)}`,
      `${f.train_samples}/${f.val_samples}`,
      rate(f.ours, 'train'),
      rate(f.ours, 'val'),
    ];
    if (anyPt) cells.push(rate(f.pytorch, 'train'), rate(f.pytorch, 'val'));
    return cells;
  });
  const otherThreads = report.rows
    .filter((r) => r.ours.intra_op_threads !== undefined && r.ours.intra_op_threads !== report.peak.intra_op_threads)
    .map((r) => `${r.task} bs ${r.batch_size} (ours on ${r.ours.intra_op_threads})`);
  const others = otherPeakSamples(report.peak);
  const [start, end] = report.peak_gflops_start_end;
  return [
    'Achieved GFLOP/s per pass (its FLOPs / its median seconds), % of the matMul peak; MFLOP/sample, samples: train/val',
    `matMul peak: ${formatPeak(report.peak)}`,
    `  measured at the run's start ${gflops(start)} and at its end ${gflops(end)} GFLOP/s${peakSpread(start, end)}`,
    ...(others ? [`  other products: ${others}`] : []),
    renderTable(header, rows, 1),
    ...wrapText(`counted: ${report.flops_counted}`, 118, '  '),
    ...(otherThreads.length > 0 ? [`  peak threads differ for: ${otherThreads.join(', ')}`] : []),
  ];
}

/** The human-readable report (stdout without --json). */
export function formatReport(report: BenchReport): string {
  const s = report.settings;
  const out: string[] = [];
  const anyPt = report.rows.some((r) => r.pytorch !== undefined);
  const rounds = s.rounds;
  const epochs = `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}`;
  out.push(
    rounds > 1
      ? `Seconds per epoch (train pass + val pass, wall clock): median [min max] of ${rounds} rounds × ${epochs} pooled ` +
          `(${rounds * s.epochs} epochs; each round after ${s.warmup} warm-up${anyPt ? ', ours and PyTorch alternating' : ''}); default config (adam 1e-3, dropout 0, constant)`
      : `Seconds per epoch (train pass + val pass, wall clock): median [min max] of ${epochs} ` +
          `after ${s.warmup} warm-up; default config (adam 1e-3, dropout 0, constant)`,
  );
  const header = ['task', 'bs', 'data', 'ours med', 'min', 'max'];
  if (anyPt) header.push('pytorch med', 'min', 'max', 'ours/pt', 'load ours/pt');
  else header.push('load');
  const rows = report.rows.map((r) => {
    const cells = [r.task, String(r.batch_size), r.ours.data, secs(r.ours.epoch.median), secs(r.ours.epoch.min), secs(r.ours.epoch.max)];
    if (anyPt) {
      const pt = r.pytorch;
      if (isPyTorchTiming(pt)) {
        cells.push(secs(pt.epoch.median), secs(pt.epoch.min), secs(pt.epoch.max));
        cells.push(r.ratio ? `${r.ratio.median.toFixed(2)}x` : '-');
        cells.push(`${load(r.ours.loadavg_before)}/${load(pt.loadavg_before)}`);
      } else {
        cells.push('-', '-', '-', '-', `${load(r.ours.loadavg_before)}/-`);
      }
    } else {
      cells.push(load(r.ours.loadavg_before));
    }
    return cells;
  });
  out.push(renderTable(header, rows, 3));
  if (rounds > 1) {
    for (const r of report.rows) out.push(`  ${r.task} bs ${r.batch_size} ${formatRoundMedians(r.round_medians)}`);
  }
  for (const r of report.rows) {
    if (r.pytorch && !isPyTorchTiming(r.pytorch)) out.push(`  pytorch ${r.task} bs ${r.batch_size} failed: ${r.pytorch.error}`);
  }
  if (anyPt) {
    out.push(`  ratio = ours median / PyTorch median${rounds > 1 ? ' (pooled over the rounds)' : ''} (below 1: ours is faster); PyTorch data per row: ` +
      report.rows.filter((r) => isPyTorchTiming(r.pytorch)).map((r) => {
        const pt = r.pytorch as PyTorchTiming;
        return `${r.task}:${pt.real_data ? (pt.standin ? 'real (JPEG stand-in)' : 'real') : 'random'}`;
      }).filter((v, i, a) => a.indexOf(v) === i).join(', '));
  }

  out.push('');
  out.push('Train pass / val pass / CPU seconds per epoch, medians (CPU ≈ 2 × epoch when both cores were free for it)');
  out.push(
    renderTable(
      anyPt
        ? ['task', 'bs', 'ours train', 'ours val', 'ours cpu', 'pytorch train', 'pytorch val', 'pytorch cpu']
        : ['task', 'bs', 'ours train', 'ours val', 'ours cpu'],
      report.rows.map((r) => {
        const cells = [r.task, String(r.batch_size), secs(r.ours.median_train_s), secs(r.ours.median_val_s), secs(r.ours.median_cpu_s)];
        if (anyPt) {
          const pt = isPyTorchTiming(r.pytorch) ? r.pytorch : null;
          cells.push(secs(pt?.median_train_s), secs(pt?.median_val_s), secs(pt?.median_cpu_s));
        }
        return cells;
      }),
      1,
    ),
  );

  out.push('', ...formatFlops(report, anyPt));

  if (report.checkpoints.length > 0) {
    out.push('');
    out.push('Checkpoint (medians of ' + report.checkpoints[0]!.repeats + ' repeats: save, restore + first forward ready, commit = temp file write + fsync) vs a 5-epoch step (5 × median epoch)');
    out.push(
      renderTable(
        ['task', 'bs', 'size', 'save s', 'restore s', 'ready s', 'commit s', 'total s', '5-epoch step s', 'share', 'restored ok'],
        report.checkpoints.map((c) => [
          c.task,
          String(c.batch_size),
          formatBytes(c.bytes),
          secs(c.save_s),
          secs(c.restore_s),
          secs(c.restore_ready_s),
          secs(c.commit_s),
          secs(c.total_s),
          secs(c.step5_s),
          `${c.share_of_step5_pct.toFixed(1)}%`,
          c.restored_matches ? 'yes' : 'NO',
        ]),
        1,
      ),
    );
  }

  const ran = report.processes.filter((p): p is ProcessFigures => !isSkipped(p));
  if (report.processes.length > 0) {
    out.push('');
    out.push('Fresh process (`ml-trainer run`: configure_training + run_epochs 5, dataset cache warm); start→epoch 1 begins = spawn to the');
    out.push('first training batch (imports, TensorFlow, data, model), the figure to hold to 1.0 s (easy) / 1.5 s (hard)');
  }
  if (ran.length > 0) {
    out.push(
      renderTable(
        ['task', 'bs', 'start→epoch 1 begins s', 'epoch 1 itself s', 'start→epoch 1 done s', '5-epoch run s', 'cpu s', 'peak RSS', 'exit'],
        ran.map((p) => {
          const begins = p.start_to_first_epoch_s !== null && p.first_epoch_s !== null ? p.start_to_first_epoch_s - p.first_epoch_s : null;
          return [
            p.task,
            String(p.batch_size),
            secs(begins),
            secs(p.first_epoch_s),
            secs(p.start_to_first_epoch_s),
            secs(p.wall_s),
            secs(p.cpu_s),
            formatBytes(p.peak_rss_bytes ?? p.vm_hwm_bytes),
            p.error ? `${p.exit_code ?? '-'} (${p.error})` : String(p.exit_code),
          ];
        }),
        1,
      ),
    );
  }
  for (const p of report.processes) if (isSkipped(p)) out.push(`  ${p.task}: skipped (${p.skipped})`);

  if (report.server_latency) {
    out.push('');
    if ('error' in report.server_latency) out.push(`Non-training calls through a local server: failed (${report.server_latency.error})`);
    else out.push(...renderServerLatency(report.server_latency));
  }

  const e = report.environment;
  out.push('');
  out.push(
    `Environment: node ${e.node}, ${e.cpus} CPUs, tfjs-node ${e.tfjs_node ?? '?'} (backend ${e.tf_backend ?? '?'}, batch norm ${e.batch_norm}), ` +
      `TF threads intra ${e.tf_threads.intra_op ?? 'default'} / inter ${e.tf_threads.inter_op ?? 'default'}` +
      `${e.tf_threads.set_by_bench ? ' (set by bench)' : ''}, tf_Compute threads seen ${e.tf_threads.tf_compute_threads_seen ?? '?'}`,
  );
  if (e.pytorch) out.push(`PyTorch: torch ${e.pytorch.torch ?? '?'} (${e.pytorch.threads ?? '?'} threads), ${e.pytorch.python}`);
  out.push(`Load average (1/5/15 min): start ${report.loadavg_start.map((v) => v.toFixed(2)).join(' ')}, end ${report.loadavg_end.map((v) => v.toFixed(2)).join(' ')}`);
  for (const d of report.data) {
    out.push(`Data ${d.task}: ${d.source}${d.folder ? ` (${d.folder})` : ''}`);
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}
