import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes, formatReport, formatRoundMedians, renderTable, type BenchReport } from '../../layers/bench/src';
import { parsePtTiming } from '../../layers/bench/src/pytorch';
import { summarize } from '../../layers/bench/src/stats';
import { formatPeak, wrapText, type BenchRow, type PyTorchTiming, type RowFlops } from '../../layers/bench/src/report';
import { rowFlops } from '../../layers/bench/src/run-bench';
import type { MatMulPeak } from '../../layers/training/src';

const PEAK: MatMulPeak = {
  gflops: 160,
  size: 4096,
  kernel: '_MklMatMul',
  intra_op_threads: 2,
  repeats: 3,
  warmup: 1,
  samples: [
    { size: 2048, kernel: 'MatMul', best_s: 0.11, gflops: 156.2 },
    { size: 4096, kernel: '_MklMatMul', best_s: 0.86, gflops: 160 },
  ],
};

/** A row's FLOPs as the bench computes them: simple_mlp's or deeper_cnn's counts per sample, the subset's samples. */
function flopsOf(row: Pick<BenchRow, 'ours' | 'pytorch'>, perSample: [number, number], samples: [number, number]): RowFlops {
  return rowFlops(row, { train: perSample[0], forward: perSample[1] }, { train_samples: samples[0], val_samples: samples[1] }, PEAK.gflops);
}

function sampleReport(): BenchReport {
  const pt = parsePtTiming(JSON.parse(readFileSync(join(__dirname, 'fixtures', 'pt-timing-sample.json'), 'utf8'))).rows;
  const ours = (epochs: number[]) => ({
    data: 'real' as const,
    epoch_s: epochs,
    warmup_epoch_s: [epochs[0]! * 2],
    epoch: summarize(epochs),
    median_train_s: summarize(epochs).median * 0.9,
    median_val_s: summarize(epochs).median * 0.1,
    median_cpu_s: summarize(epochs).median * 1.9,
    loadavg_before: [1.5, 1.2, 1.0] as [number, number, number],
    loadavg_after: [1.6, 1.2, 1.0] as [number, number, number],
    last_val_accuracy: 0.9,
  });
  const mlp = ours([0.2, 0.25, 0.3]);
  const cnn = ours([12, 13, 14]);
  return {
    kind: 'ml-trainer-bench',
    version: 1,
    started_at: '2026-11-26T17:00:00.000Z',
    finished_at: '2026-11-26T17:05:00.000Z',
    settings: { tasks: ['easy_mnist', 'hard_cifar'], batch_sizes: [64], epochs: 3, warmup: 1, rounds: 1, data: 'auto', data_dir: '/data', vs_pytorch: true, child_processes: true },
    environment: {
      node: 'v20.0.0',
      platform: 'linux-x64',
      cpus: 2,
      tfjs_node: '4.22.0',
      tf_backend: 'tensorflow',
      tf_threads: { intra_op: '2', inter_op: '2', set_by_bench: true, tf_compute_threads_seen: 2 },
      batch_norm: 'fused (default)',
      trainer_sources: null,
      dist_stale_files: [],
      pytorch: { python: '/venv/bin/python', torch: '2.13.0+cpu', threads: 2, script: '/ref/pt_reference.py' },
    },
    data: [
      { task: 'easy_mnist', source: 'real', folder: '/data/mnist', warnings: [], train_samples: 4000, val_samples: 1000 },
      { task: 'hard_cifar', source: 'real', folder: '/data/cifar10_jpeg', warnings: ['unverified'], train_samples: 8000, val_samples: 2000 },
    ],
    rows: [
      {
        task: 'easy_mnist', model: 'simple_mlp', batch_size: 64, ours: mlp, pytorch: pt[0]!.timing, ratio: { median: 0.25 / 0.1068, min: 0.2 / 0.1037, max: 0.3 / 0.1086 }, round_medians: { ours: [0.25], pytorch: [0.1068] },
        flops: flopsOf({ ours: mlp, pytorch: pt[0]!.timing }, [454_400, 218_368], [4000, 1000]),
      },
      {
        task: 'hard_cifar', model: 'deeper_cnn', batch_size: 64, ours: cnn, pytorch: { error: 'boom' }, ratio: null, round_medians: { ours: [13], pytorch: [null] },
        flops: flopsOf({ ours: cnn, pytorch: { error: 'boom' } }, [63_323_136, 21_697_536], [8000, 2000]),
      },
    ],
    peak: PEAK,
    peak_gflops_start_end: [158.1, 160],
    flops_counted: 'FLOPs = 2 x multiply-adds',
    checkpoints: [
      {
        task: 'easy_mnist', batch_size: 64, bytes: 1_320_000, repeats: 3, save_s: 0.01, restore_s: 0.02, first_eval_s: 0.05, restore_ready_s: 0.045,
        commit_s: 0.004, total_s: 0.059, step5_s: 1.25, share_of_step5_pct: 4.72, restored_matches: true,
        samples: { save_s: [0.01], restore_s: [0.02], first_eval_s: [0.05], commit_s: [0.004] },
      },
    ],
    processes: [
      { task: 'easy_mnist', batch_size: 64, start_to_first_epoch_s: 1.8, first_epoch_s: 0.3, wall_s: 3.1, peak_rss_bytes: 420 * 1024 * 1024, vm_hwm_bytes: 419 * 1024 * 1024, cpu_s: 4.5, exit_code: 0 },
      { task: 'hard_cifar', skipped: 'random data' },
    ],
    server_latency: null,
    loadavg_start: [1.5, 1.2, 1.0],
    loadavg_end: [1.7, 1.3, 1.1],
    notes: ['a note'],
  };
}

describe('bench report formatting', () => {
  it('renders aligned columns', () => {
    const text = renderTable(['task', 'bs', 'med'], [['easy_mnist', '64', '0.123'], ['hard_cifar', '256', '12.50']], 1);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('task         bs    med');
    expect(lines[1]).toBe('----------  ---  -----');
    expect(lines[3]).toBe('hard_cifar  256  12.50');
  });

  it('formats byte counts', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(1_320_000)).toBe('1.3 MiB');
    expect(formatBytes(null)).toBe('-');
  });

  it('prints ours, PyTorch and the ratio per task and batch size', () => {
    const text = formatReport(sampleReport());
    const mlp = text.split('\n').find((l) => l.startsWith('easy_mnist  64'))!;
    expect(mlp.split(/\s+/)).toEqual(['easy_mnist', '64', 'real', '0.250', '0.200', '0.300', '0.107', '0.104', '0.109', '2.34x', '1.50/1.48']);
    expect(text).toMatch(/hard_cifar\s+64\s+real\s+13\.00\s+12\.00\s+14\.00\s+-\s+-\s+-\s+-/);
    expect(text).toContain('pytorch hard_cifar bs 64 failed: boom');
  });

  it('prints the checkpoint, process and environment figures', () => {
    const text = formatReport(sampleReport());
    expect(text).toMatch(/easy_mnist\s+64\s+1\.3 MiB\s+0\.010\s+0\.020\s+0\.045\s+0\.004\s+0\.059\s+1\.250\s+4\.7%\s+yes/);
    expect(text).toMatch(/start→epoch 1 begins s\s+epoch 1 itself s\s+start→epoch 1 done s/);
    expect(text).toMatch(/easy_mnist\s+64\s+1\.500\s+0\.300\s+1\.800\s+3\.100\s+4\.500\s+420\.0 MiB\s+0/);
    expect(text).toContain('  hard_cifar: skipped (random data)');
    expect(text).toContain('TF threads intra 2 / inter 2 (set by bench), tf_Compute threads seen 2');
    expect(text).toContain('torch 2.13.0+cpu (2 threads)');
    expect(text).toContain('start 1.50 1.20 1.00, end 1.70 1.30 1.10');
    expect(text).toContain('note: a note');
    expect(text).toMatch(/easy_mnist\s+64\s+0\.225\s+0\.025\s+0\.475\s+0\.101\s+0\.005\s+0\.212/);
  });

  it('omits the PyTorch columns without --vs-pytorch', () => {
    const report = sampleReport();
    report.rows = report.rows.map(({ pytorch: _p, ...row }) => ({ ...row, ratio: null, round_medians: { ours: row.round_medians.ours } }));
    const header = formatReport(report).split('\n')[1]!;
    expect(header.split(/\s+/)).toEqual(['task', 'bs', 'data', 'ours', 'med', 'min', 'max', 'load']);
  });

  it('prints the server call latencies with the status target, a failed measurement as its error, nothing when skipped', () => {
    const report = sampleReport();
    expect(formatReport(report)).not.toContain('through a local server');
    const summary = (p50: number) => ({ n: 20, p50_ms: p50, p90_ms: p50 * 2, p99_ms: p50 * 4, max_ms: p50 * 5 });
    report.server_latency = {
      task: 'easy_mnist', via: 'rest', episodes: 2, warmup_episodes: 1, trained_epoch: true, server_start_s: 1.5,
      calls: {
        create_episode: summary(4), configure_training: summary(30), toggle_augmentation: summary(55),
        adjust_learning_rate: summary(9), get_training_status: summary(8), submit_model: summary(8.5),
      },
      samples_ms: { create_episode: [], configure_training: [], toggle_augmentation: [], adjust_learning_rate: [], get_training_status: [], submit_model: [] },
      failures: [], load1_before: 0.5, load1_after: 0.7,
    };
    const text = formatReport(report);
    expect(text).toMatch(/get_training_status\s+20\s+8\.00\s+16\.0\s+32\.0\s+40\.0/);
    expect(text).toContain('target p50 <= 15 ms, p99 <= 50 ms: met');
    report.server_latency = { error: 'serve exited with code 1' };
    expect(formatReport(report)).toContain('Non-training calls through a local server: failed (serve exited with code 1)');
  });

  it('prints no rounds line for a single round', () => {
    const text = formatReport(sampleReport());
    expect(text).not.toContain('rounds:');
    expect(text.split('\n')[0]).toContain('median [min max] of 3 epochs after 1 warm-up;');
  });

  it('formats each round\'s medians compactly, a failed PyTorch round as "failed"', () => {
    expect(formatRoundMedians({ ours: [4.55, 4.61, 4.4], pytorch: [6.66, 6.7, 6.51] })).toBe('rounds: ours 4.550/4.610/4.400, pytorch 6.660/6.700/6.510');
    expect(formatRoundMedians({ ours: [0.25, 0.2], pytorch: [0.1, null] })).toBe('rounds: ours 0.250/0.200, pytorch 0.100/failed');
    expect(formatRoundMedians({ ours: [12.5] })).toBe('rounds: ours 12.50');
  });

  it('prints the pooled figures, the ratio of pooled medians and a line of round medians per row with several rounds', () => {
    const report = sampleReport();
    report.settings.rounds = 3;
    report.settings.epochs = 2;
    const ptEpochs = [0.11, 0.1, 0.12, 0.13, 0.1, 0.104];
    const pt = { ...(report.rows[0]!.pytorch as PyTorchTiming), epoch_s: ptEpochs, epoch: summarize(ptEpochs) };
    report.rows[0] = {
      ...report.rows[0]!,
      pytorch: pt,
      ratio: { median: 0.25 / 0.107, min: 0.2 / 0.1, max: 0.3 / 0.13 },
      round_medians: { ours: [0.25, 0.24, 0.26], pytorch: [0.105, 0.125, 0.102] },
    };
    report.rows[1]!.round_medians = { ours: [13, 12.5, 13.5], pytorch: [null, null, null] };
    const text = formatReport(report);
    expect(text.split('\n')[0]).toContain('median [min max] of 3 rounds × 2 epochs pooled (6 epochs; each round after 1 warm-up, ours and PyTorch alternating)');
    const mlp = text.split('\n').find((l) => l.startsWith('easy_mnist  64'))!;
    expect(mlp.split(/\s+/).slice(6, 10)).toEqual(['0.107', '0.100', '0.130', '2.34x']);
    expect(text).toContain('  easy_mnist bs 64 rounds: ours 0.250/0.240/0.260, pytorch 0.105/0.125/0.102');
    expect(text).toContain('  hard_cifar bs 64 rounds: ours 13.00/12.50/13.50, pytorch failed/failed/failed');
    expect(text).toContain('ratio = ours median / PyTorch median (pooled over the rounds)');
  });

  it('prints each pass\'s GFLOP/s and % of the matMul peak, ours and PyTorch side by side', () => {
    const lines = formatReport(sampleReport()).split('\n');
    const title = lines.findIndex((l) => l.startsWith('Achieved GFLOP/s per pass'));
    expect(lines[title + 1]).toBe('matMul peak: 160.0 GFLOP/s (_MklMatMul 4096² float32, best of 3 after 1 warm-up, 2 intra-op threads)');
    expect(lines[title + 2]).toBe("  measured at the run's start 158.1 and at its end 160.0 GFLOP/s");
    expect(lines[title + 3]).toBe('  other products: MatMul 2048² 156.2');
    expect(lines[title + 4]!.split(/\s{2,}/)).toEqual(['task', 'bs', 'MFLOP/sample', 'samples', 'ours train', 'ours val', 'pytorch train', 'pytorch val']);
    // easy_mnist: 454,400 × 4000 FLOPs in 0.225 s = 8.08 GFLOP/s (5% of 160); val 218,368 × 1000 in 0.025 s;
    // PyTorch's 0.1012 s train pass and 0.0055 s val pass (the fixture's medians): 18.0 and 39.7 GFLOP/s.
    const mlp = lines.slice(title).find((l) => l.startsWith('easy_mnist'))!;
    expect(mlp.split(/\s{2,}/)).toEqual(['easy_mnist', '64', '0.454/0.218', '4000/1000', '8.1 (5%)', '8.7 (5%)', '18.0 (11%)', '39.7 (25%)']);
    // hard_cifar: 63.3 MFLOP × 8000 in 11.7 s = 43.3 GFLOP/s (27%); val 21.7 × 2000 in 1.3 s = 33.4 (21%); PyTorch failed.
    const cnn = lines.slice(title).find((l) => l.startsWith('hard_cifar'))!;
    expect(cnn.split(/\s{2,}/)).toEqual(['hard_cifar', '64', '63.3/21.7', '8000/2000', '43.3 (27%)', '33.4 (21%)', '-', '-']);
    expect(lines).toContain('  counted: FLOPs = 2 x multiply-adds');
    expect(lines.some((l) => l.startsWith('  peak threads differ'))).toBe(false);
    const section = lines.slice(title, lines.indexOf('', title));
    for (const l of section) expect(l.length).toBeLessThanOrEqual(120);
  });

  it('keeps the FLOP rates in the JSON rows, and names rows trained on another thread count than the peak', () => {
    const report = sampleReport();
    const row = report.rows[0]!;
    expect(row.flops.ours.train_gflops).toBeCloseTo((454_400 * 4000) / 0.225 / 1e9, 9);
    expect(row.flops.ours.train_pct_of_peak).toBeCloseTo((100 * row.flops.ours.train_gflops!) / 160, 9);
    expect(row.flops.pytorch!.val_gflops).toBeCloseTo((218_368 * 1000) / (row.pytorch as PyTorchTiming).median_val_s / 1e9, 9);
    expect(report.rows[1]!.flops.pytorch).toBeUndefined();
    row.ours.intra_op_threads = 1;
    expect(formatReport(report)).toContain('  peak threads differ for: easy_mnist bs 64 (ours on 1)');
  });

  it('wraps the note on what is counted within 120 columns', () => {
    const report = sampleReport();
    report.flops_counted = 'FLOPs = 2 x the multiply-adds of the conv and matmul kernels (train: forward + input gradient, except for the first layer, + weight gradient); bias, batch norm, ReLU, pooling, loss and Adam not counted';
    const lines = formatReport(report).split('\n');
    const first = lines.findIndex((l) => l.startsWith('  counted: FLOPs = 2 x'));
    expect(lines[first]!.length).toBeLessThanOrEqual(118);
    expect(lines[first + 1]).toMatch(/^  \S.* not counted$/);
    expect(wrapText('aaa bbb ccc', 9, '  ')).toEqual(['  aaa bbb', '  ccc']);
    expect(wrapText('', 9, '  ')).toEqual([]);
  });

  it('says when the two peak measurements disagree (a shared machine)', () => {
    const report = sampleReport();
    report.peak_gflops_start_end = [160, 80];
    expect(formatReport(report)).toContain("  measured at the run's start 160.0 and at its end 80.0 GFLOP/s (100% apart: shared cores, the % are unreliable)");
    report.peak_gflops_start_end = [150, 160];
    expect(formatReport(report)).toContain("  measured at the run's start 150.0 and at its end 160.0 GFLOP/s\n");
  });

  it('formats the peak alone when one kernel at one size was timed', () => {
    expect(formatPeak({ ...PEAK, intra_op_threads: 1, samples: [PEAK.samples[1]!] })).toBe('160.0 GFLOP/s (_MklMatMul 4096² float32, best of 3 after 1 warm-up, 1 intra-op thread)');
  });

  it('survives a JSON round trip unchanged (the --json document)', () => {
    const report = sampleReport();
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});
