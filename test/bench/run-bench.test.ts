import { describeEpoch } from '../../cli/epoch-progress';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, formatRoundMedians, median, randomTaskData, runBench, summarize } from '../../layers/bench/src';
import { parseFirstEpochLine, PROBE_SOURCE } from '../../layers/bench/src/child-step';
import { applyThreadEnv } from '../../layers/bench/src/run-bench';

/** The fake interpreter's source (a node script), see the --rounds test. */
const FAKE_PYTHON = (node: string) => `#!${node}
'use strict';
const fs = require('fs');
const path = require('path');
const dir = __dirname;
const args = process.argv.slice(2);
if (args[0] === '-c') {
  console.log(JSON.stringify({ torch: '2.13.0+fake', numpy: '2.0.0' }));
  process.exit(0);
}
const countFile = path.join(dir, 'count');
const n = (fs.existsSync(countFile) ? Number(fs.readFileSync(countFile, 'utf8')) : 0) + 1;
fs.writeFileSync(countFile, String(n));
fs.writeFileSync(path.join(dir, 'args-' + n + '.json'), JSON.stringify(args));
console.error('fake pt_reference call ' + n);
const epochs = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8'))[n - 1];
if (!epochs) process.exit(3);
const opt = (name) => args[args.indexOf(name) + 1];
const sorted = [...epochs].sort((a, b) => a - b);
const med = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
const up = { uptime: 'fake', loadavg: [1, 1, 1] };
fs.writeFileSync(opt('--out'), JSON.stringify({
  env: { torch: '2.13.0+fake', torch_threads: 2 },
  rows: [{
    task: opt('--tasks'), batch_size: Number(opt('--batch-sizes')), real_data: false, standin: false,
    warmup_epoch_s: 0.5, epoch_s: epochs, median_train_s: med * 0.9, median_val_s: med * 0.1, median_cpu_s: med * 2,
    uptime_before: up, uptime_after: up,
  }],
}));
`;

describe('bench logic', () => {
  it('times a real epoch of easy_mnist on random data and measures its checkpoint', async () => {
    const lines: string[] = [];
    const report = await runBench({
      tasks: ['easy_mnist'],
      batchSizes: [64],
      epochs: 1,
      warmup: 0,
      data: 'random',
      dataDir: '/nonexistent',
      vsPytorch: false,
      venvDir: '/nonexistent/venv',
      pytorchScript: '/nonexistent/pt_reference.py',
      childProcesses: false,
      peakSizes: [128],
      repoRoot: join(__dirname, '..', '..'),
      env: {},
      log: (line) => lines.push(line),
    });
    expect(report.rows).toHaveLength(1);
    const row = report.rows[0]!;
    expect(row).toMatchObject({ task: 'easy_mnist', model: 'simple_mlp', batch_size: 64, ratio: null });
    expect(row.pytorch).toBeUndefined();
    expect(row.ours.data).toBe('random');
    expect(row.ours.epoch_s).toHaveLength(1);
    expect(row.ours.epoch.median).toBeGreaterThan(0);
    expect(row.ours.epoch.median).toBeGreaterThanOrEqual(row.ours.median_train_s);
    const ckpt = report.checkpoints[0]!;
    // simple_mlp: 109,386 float32 weights, plus Adam's two moments: well over 1 MB.
    expect(ckpt.bytes).toBeGreaterThan(109_386 * 4);
    expect(ckpt.restored_matches).toBe(true);
    expect(ckpt.repeats).toBe(3);
    expect(ckpt.samples.save_s).toHaveLength(3);
    expect(ckpt.total_s).toBeCloseTo(ckpt.save_s + ckpt.restore_ready_s + ckpt.commit_s, 10);
    expect(ckpt.share_of_step5_pct).toBeCloseTo((100 * ckpt.total_s) / (5 * row.ours.epoch.median), 6);
    expect(report.processes).toEqual([]);
    expect(report.data).toEqual([{ task: 'easy_mnist', source: 'random', folder: null, warnings: [], train_samples: 4000, val_samples: 1000 }]);
    expect(report.environment.tf_backend).toBe('tensorflow');
    expect(lines.some((l) => l.includes('ours epoch 1'))).toBe(true);
    expect(formatReport(report)).toContain('easy_mnist  64  random');
    // The peak on the sizes asked for, and the row's FLOPs: simple_mlp's count × the subset's 4000/1000 samples.
    // Measured before the tasks and after them; the report keeps the better.
    expect(report.peak.samples.map((p) => p.size)).toEqual([128, 128]);
    expect(report.peak.gflops).toBe(Math.max(...report.peak_gflops_start_end));
    expect(lines.filter((l) => /^matMul peak \((start|end) of the run\)/.test(l))).toHaveLength(2);
    expect(row.flops).toMatchObject({ train_flops_per_sample: 454_400, forward_flops_per_sample: 218_368, train_samples: 4000, val_samples: 1000 });
    expect(row.flops.ours.train_gflops).toBeCloseTo((454_400 * 4000) / row.ours.median_train_s / 1e9, 9);
    expect(row.flops.ours.val_pct_of_peak).toBeCloseTo((100 * row.flops.ours.val_gflops!) / report.peak.gflops, 9);
    expect(report.flops_counted).toContain('multiply-adds');
  });

  it('alternates ours and PyTorch round by round with --rounds, pools the epochs and measures the checkpoint once', async () => {
    // A stand-in for a Python with torch: answers the version probe, and for `pt_reference.py timing`
    // writes the --out document as the real script does (epochs from plan.json per call; exit 3 for a failed run).
    const dir = mkdtempSync(join(tmpdir(), 'bench-fake-pt-'));
    try {
      const python = join(dir, 'python');
      const script = join(dir, 'pt_reference.py');
      writeFileSync(script, '# never run: the fake interpreter reads its arguments\n');
      writeFileSync(join(dir, 'plan.json'), JSON.stringify([[0.1, 0.3], null, [0.2, 0.4]]));
      writeFileSync(python, FAKE_PYTHON(process.execPath), { mode: 0o755 });
      const lines: string[] = [];
      const report = await runBench({
        tasks: ['easy_mnist'],
        batchSizes: [64],
        epochs: 2,
        warmup: 1,
        rounds: 3,
        data: 'random',
        dataDir: '/nonexistent',
        vsPytorch: true,
        python,
        venvDir: '/nonexistent/venv',
        pytorchScript: script,
        childProcesses: false,
        peakSizes: [128],
        repoRoot: join(__dirname, '..', '..'),
        env: {},
        log: (line) => lines.push(line),
      });

      // The order on stderr: ours, PyTorch, ours, PyTorch, ...; the checkpoint after our last round only.
      const steps = lines
        .map((l) => /round (\d)\/3: (ours|pytorch)|(checkpoint) save|fake pt_reference call (\d)/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => (m[3] ? 'checkpoint' : m[4] ? `call ${m[4]}` : `${m[2]} ${m[1]}`));
      expect(steps).toEqual(['ours 1', 'pytorch 1', 'call 1', 'ours 2', 'pytorch 2', 'call 2', 'ours 3', 'checkpoint', 'pytorch 3', 'call 3']);
      expect(lines.filter((l) => /ours epoch 1 \(warm-up\)/.test(l))).toHaveLength(3);
      const call = JSON.parse(readFileSync(join(dir, 'args-1.json'), 'utf8')) as string[];
      expect(call).toEqual([script, 'timing', '--tasks', 'easy_mnist', '--batch-sizes', '64', '--epochs', '2', '--warmup', '1', '--out', expect.any(String)]);

      expect(report.settings.rounds).toBe(3);
      const row = report.rows[0]!;
      // Ours: every round's 2 measured epochs pooled, each round's warm-up listed.
      expect(row.ours.epoch_s).toHaveLength(6);
      expect(row.ours.warmup_epoch_s).toHaveLength(3);
      expect(row.ours.epoch).toEqual(summarize(row.ours.epoch_s));
      expect(row.round_medians.ours).toEqual([0, 2, 4].map((k) => median(row.ours.epoch_s.slice(k, k + 2))));
      // PyTorch: round 2 failed; rounds 1 and 3 pooled.
      const [pt1, pt2, pt3] = row.round_medians.pytorch!;
      expect([pt1, pt2]).toEqual([0.2, null]);
      expect(pt3).toBeCloseTo(0.3, 12);
      expect(row.pytorch).toMatchObject({ epoch_s: [0.1, 0.3, 0.2, 0.4], epoch: { median: 0.25, min: 0.1, max: 0.4, n: 4 } });
      expect(row.ratio!.median).toBeCloseTo(row.ours.epoch.median / 0.25, 12);
      expect(row.ratio!.min).toBeCloseTo(row.ours.epoch.min / 0.1, 12);
      expect(report.notes.some((n) => /pytorch easy_mnist bs 64 round 2\/3 failed \(pt_reference.py timing exited with code 3\)/.test(n))).toBe(true);
      expect(report.environment.pytorch).toMatchObject({ python, torch: '2.13.0+fake', threads: 2 });
      // PyTorch's rate: the same FLOPs over its pooled median pass seconds.
      const ptTiming = row.pytorch as { median_train_s: number; median_val_s: number };
      expect(row.flops.pytorch!.train_gflops).toBeCloseTo((454_400 * 4000) / ptTiming.median_train_s / 1e9, 9);
      expect(row.flops.pytorch!.val_gflops).toBeCloseTo((218_368 * 1000) / ptTiming.median_val_s / 1e9, 9);

      expect(report.checkpoints).toHaveLength(1);
      expect(report.checkpoints[0]!.restored_matches).toBe(true);
      expect(report.checkpoints[0]!.step5_s).toBeCloseTo(5 * row.ours.epoch.median, 12);

      const text = formatReport(report);
      expect(text).toContain(`  easy_mnist bs 64 ${formatRoundMedians(row.round_medians)}`);
      expect(text).toMatch(/easy_mnist bs 64 rounds: ours [\d.]+\/[\d.]+\/[\d.]+, pytorch 0\.200\/failed\/0\.300/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes random data in the task shape and subset sizes', () => {
    const d = randomTaskData('medium_fashion');
    expect([d.dataset, d.channels, d.height, d.width, d.train.count, d.val.count]).toEqual(['fashion_mnist', 1, 28, 28, 6500, 1500]);
    expect(d.train.images.length).toBe(6500 * 28 * 28);
    expect(d.val.labels.every((l) => l < 10)).toBe(true);
    expect(new Set(d.val.labels).size).toBe(10);
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
    expect(same(randomTaskData('medium_fashion').train.images, d.train.images)).toBe(true);
    expect(same(randomTaskData('medium_fashion', 7).train.images, d.train.images)).toBe(false);
  });

  it('sets the TensorFlow thread variables only when unset', () => {
    const env: NodeJS.ProcessEnv = { TF_NUM_INTEROP_THREADS: '1' };
    expect(applyThreadEnv(env, 2)).toEqual({ set: true });
    expect(env).toEqual({ TF_NUM_INTEROP_THREADS: '1', TF_NUM_INTRAOP_THREADS: '2' });
    expect(applyThreadEnv(env, 2)).toEqual({ set: false });
  });

  it('recognises the first epoch progress line of ml-trainer run', () => {
    expect(parseFirstEpochLine('  epoch 1 (1/5)  lr 0.00100  loss 0.500/0.300  acc 0.800/0.900  1.23s')).toEqual({ seconds: 1.23 });
    expect(parseFirstEpochLine('  epoch 21 (1/5)  lr 0.00100  loss 0.500/0.300  acc 0.800/0.900  1.23s')).toEqual({ seconds: 1.23 });
    expect(parseFirstEpochLine('  epoch 2 (2/5)  lr 0.00100  1.23s')).toBeNull();
    // The line as the CLI prints it (cli/epoch-progress.ts owns the format).
    const printed = describeEpoch({ epoch: 21, index: 1, total: 5, learning_rate: 0.001, train_loss: 0.5, train_accuracy: 0.8, val_loss: 0.3, val_accuracy: 0.9, seconds: 1.23, diverged: false });
    expect(parseFirstEpochLine(printed)).toEqual({ seconds: 1.23 });
    expect(parseFirstEpochLine('  epoch 1 (10/20)  1.23s')).toBeNull();
    expect(parseFirstEpochLine('decoding /data/mnist/train-images-idx3-ubyte.gz')).toBeNull();
  });

  it('has a preload probe that reports the peak RSS of a child at exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-probe-'));
    try {
      const probe = join(dir, 'probe.js');
      const out = join(dir, 'out.json');
      writeFileSync(probe, PROBE_SOURCE);
      const r = spawnSync(process.execPath, ['--require', probe, '-e', 'globalThis.keep = Buffer.alloc(64 * 1024 * 1024, 1)'], {
        env: { ...process.env, ML_TRAINER_BENCH_PROBE_OUT: out },
      });
      expect(r.status).toBe(0);
      const got = JSON.parse(readFileSync(out, 'utf8'));
      expect(got.maxRssBytes).toBeGreaterThan(64 * 1024 * 1024);
      expect(got.cpuS).toBeGreaterThan(0);
      if (process.platform === 'linux') expect(got.vmHwmBytes).toBeGreaterThan(64 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
