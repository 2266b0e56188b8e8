import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, randomTaskData, runBench } from '../../layers/bench/src';
import { parseFirstEpochLine, PROBE_SOURCE } from '../../layers/bench/src/child-step';
import { applyThreadEnv } from '../../layers/bench/src/run-bench';

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
    expect(report.data).toEqual([{ task: 'easy_mnist', source: 'random', folder: null, warnings: [] }]);
    expect(report.environment.tf_backend).toBe('tensorflow');
    expect(lines.some((l) => l.includes('ours epoch 1'))).toBe(true);
    expect(formatReport(report)).toContain('easy_mnist  64  random');
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
    expect(parseFirstEpochLine('  epoch 1/5 (model epoch 1)  lr 0.00100  loss 0.5 acc 0.8  val_loss 0.3 val_acc 0.9  1.23s')).toEqual({ seconds: 1.23 });
    expect(parseFirstEpochLine('  epoch 2/5 (model epoch 2)  lr 0.00100  1.23s')).toBeNull();
    expect(parseFirstEpochLine('  epoch 10/20 (model epoch 10)  1.23s')).toBeNull();
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
