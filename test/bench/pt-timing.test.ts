import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePtTiming, PtTimingFormatError } from '../../layers/bench/src/pytorch';

const sample = () => JSON.parse(readFileSync(join(__dirname, 'fixtures', 'pt-timing-sample.json'), 'utf8'));

describe('parsing pt_reference.py timing output', () => {
  it('reads the rows, torch version and thread count', () => {
    const parsed = parsePtTiming(sample());
    expect(parsed.torch).toBe('2.13.0+cpu');
    expect(parsed.threads).toBe(2);
    expect(parsed.rows.map((r) => [r.task, r.batch_size])).toEqual([
      ['easy_mnist', 64],
      ['hard_cifar', 64],
    ]);
  });

  it('summarises epoch_s itself (median, min and max) and keeps the split, data kind and load', () => {
    const [mlp, cnn] = parsePtTiming(sample()).rows;
    expect(mlp!.timing.epoch).toEqual({ median: 0.1068, min: 0.1037, max: 0.1086, n: 3 });
    expect(mlp!.timing.warmup_epoch_s).toEqual([0.1138]);
    expect(mlp!.timing.median_train_s).toBe(0.1012);
    expect(mlp!.timing.median_val_s).toBe(0.0055);
    expect(mlp!.timing.real_data).toBe(true);
    expect(mlp!.timing.standin).toBe(false);
    expect(mlp!.timing.loadavg_before).toEqual([1.48, 2.11, 2.49]);
    expect(cnn!.timing.epoch.median).toBeCloseTo(6.6525, 10);
    expect(cnn!.timing.epoch.max).toBe(7.9);
    expect(cnn!.timing.standin).toBe(true);
  });

  it('accepts a run without warm-up (warmup_epoch_s null)', () => {
    const doc = sample();
    doc.rows[0].warmup_epoch_s = null;
    expect(parsePtTiming(doc).rows[0]!.timing.warmup_epoch_s).toEqual([]);
  });

  it('rejects documents that are not timing output', () => {
    expect(() => parsePtTiming([])).toThrow(PtTimingFormatError);
    expect(() => parsePtTiming({ rows: 3 })).toThrow(/rows/);
    const noEpochs = sample();
    noEpochs.rows[1].epoch_s = [];
    expect(() => parsePtTiming(noEpochs)).toThrow(/rows\[1\]\.epoch_s/);
    const badNumber = sample();
    badNumber.rows[0].epoch_s[1] = 'fast';
    expect(() => parsePtTiming(badNumber)).toThrow(/rows\[0\]\.epoch_s\[1\]/);
  });
});
