import type { Trainer } from '../../layers/core/src/trainer-port';
import { poolOurRounds, summarizeOurEpochs, type EpochRecord, type TimedTrainer } from '../../layers/bench/src/our-timing';
import { poolPtTimings } from '../../layers/bench/src/pytorch';
import type { PyTorchTiming } from '../../layers/bench/src/report';
import { poolPtRounds } from '../../layers/bench/src/run-bench';
import { gflopsPerSecond, median, passRates, percentOf, ratio, summarize } from '../../layers/bench/src/stats';

describe('bench statistics', () => {
  it('takes the middle value of an odd sample', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([5])).toBe(5);
  });

  it('averages the two middle values of an even sample, as Python statistics.median does', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([6.705, 6.512, 7.9, 6.6])).toBeCloseTo(6.6525, 12);
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('summarises median, min, max and count', () => {
    expect(summarize([0.12, 0.1, 0.3])).toEqual({ median: 0.12, min: 0.1, max: 0.3, n: 3 });
  });

  it('refuses empty and non-finite samples', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, NaN])).toThrow(/finite/);
  });

  it('computes ours / reference, null when a side is missing or zero', () => {
    expect(ratio(2, 4)).toBe(0.5);
    expect(ratio(2, 0)).toBeNull();
    expect(ratio(null, 1)).toBeNull();
    expect(ratio(1, undefined)).toBeNull();
  });
});

describe('pooling the rounds of a task and batch size', () => {
  const load = (x: number): [number, number, number] => [x, x, x];
  const record = (epoch_s: number, k = 1): EpochRecord => ({
    epoch_s,
    cpu_s: 2 * epoch_s * k,
    train_s: 0.9 * epoch_s,
    val_s: 0.1 * epoch_s,
    val_loss: 1 / epoch_s,
    val_accuracy: epoch_s / 10,
  });
  const trainer = {} as Trainer;
  /** One round as timeOurRound returns it: `warm` warm-up records, then the measured ones. */
  const ourRound = (warm: number[], measured: number[], loadBefore: number, loadAfter: number): TimedTrainer => {
    const records = [...warm.map((e) => record(e)), ...measured.map((e) => record(e))];
    return {
      trainer,
      records,
      timing: summarizeOurEpochs({
        measured: records.slice(warm.length),
        warm: records.slice(0, warm.length),
        data: 'random',
        loadavgBefore: load(loadBefore),
        loadavgAfter: load(loadAfter),
      }),
    };
  };

  it('summarises one round as before: measured epochs only, warm-up listed', () => {
    const { timing } = ourRound([9], [4.6, 4.5, 4.7], 1, 2);
    expect(timing.epoch).toEqual({ median: 4.6, min: 4.5, max: 4.7, n: 3 });
    expect(timing.warmup_epoch_s).toEqual([9]);
    expect(timing.median_train_s).toBeCloseTo(0.9 * 4.6, 12);
    expect(timing.last_val_accuracy).toBeCloseTo(0.47, 12);
  });

  it('pools every round\'s measured epochs (not the medians of the rounds) and every warm-up epoch', () => {
    const rounds = [ourRound([9], [4.6, 4.5, 4.7], 1, 2), ourRound([8], [4.0, 4.1, 4.2], 2, 3), ourRound([7], [5.0, 4.9, 4.4], 3, 4)];
    const pooled = poolOurRounds(rounds);
    expect(pooled.timing.epoch_s).toEqual([4.6, 4.5, 4.7, 4.0, 4.1, 4.2, 5.0, 4.9, 4.4]);
    expect(pooled.timing.warmup_epoch_s).toEqual([9, 8, 7]);
    // Pooled median of 9 epochs is 4.5; the median of the round medians would be 4.6.
    expect(pooled.timing.epoch).toEqual({ median: 4.5, min: 4.0, max: 5.0, n: 9 });
    expect(median(rounds.map((r) => r.timing.epoch.median))).toBe(4.6);
    expect(pooled.timing.median_train_s).toBeCloseTo(0.9 * 4.5, 12);
    expect(pooled.timing.median_val_s).toBeCloseTo(0.1 * 4.5, 12);
    expect(pooled.timing.median_cpu_s).toBeCloseTo(2 * 4.5, 12);
    expect(pooled.timing.loadavg_before).toEqual(load(1));
    expect(pooled.timing.loadavg_after).toEqual(load(4));
    expect(pooled.timing.last_val_accuracy).toBeCloseTo(0.44, 12);
    // measureCheckpoint compares against the last epoch the trainer ran.
    expect(pooled.records).toBe(rounds[2]!.records);
    expect(pooled.trainer).toBe(trainer);
  });

  it('pools rounds without warm-up, and a single round to the same figures', () => {
    const one = ourRound([], [0.2, 0.3], 1, 1);
    expect(poolOurRounds([one]).timing).toEqual(one.timing);
    expect(poolOurRounds([one, ourRound([], [0.1], 1, 1)]).timing.epoch).toEqual({ median: 0.2, min: 0.1, max: 0.3, n: 3 });
    expect(() => poolOurRounds([])).toThrow(RangeError);
  });

  const ptRun = (epochs: number[], extra: Partial<PyTorchTiming> = {}): PyTorchTiming => ({
    epoch_s: epochs,
    warmup_epoch_s: [epochs[0]! * 1.1],
    epoch: summarize(epochs),
    median_train_s: median(epochs) * 0.9,
    median_val_s: median(epochs) * 0.1,
    median_cpu_s: median(epochs) * 2,
    real_data: true,
    standin: false,
    loadavg_before: load(1),
    loadavg_after: load(1),
    ...extra,
  });

  it('pools PyTorch runs: all epochs together, the medians of the runs\' split medians', () => {
    const runs = [ptRun([6.6, 6.7], { loadavg_before: load(1.5) }), ptRun([6.5, 6.4], { median_cpu_s: null }), ptRun([7.0, 6.9], { standin: true, loadavg_after: load(2.5) })];
    const pooled = poolPtTimings(runs);
    expect(pooled.epoch_s).toEqual([6.6, 6.7, 6.5, 6.4, 7.0, 6.9]);
    expect(pooled.warmup_epoch_s).toHaveLength(3);
    expect(pooled.epoch.median).toBeCloseTo(6.65, 12);
    expect(pooled.epoch).toMatchObject({ min: 6.4, max: 7.0, n: 6 });
    expect(pooled.median_train_s).toBeCloseTo(6.65 * 0.9, 12);
    expect(pooled.median_cpu_s).toBeCloseTo(median([6.65 * 2, 6.95 * 2]), 12);
    expect(pooled.standin).toBe(true);
    expect(pooled.real_data).toBe(true);
    expect(pooled.loadavg_before).toEqual(load(1.5));
    expect(pooled.loadavg_after).toEqual(load(2.5));
    expect(poolPtTimings([runs[0]!])).toBe(runs[0]);
    expect(() => poolPtTimings([])).toThrow(RangeError);
  });

  it('pools the PyTorch rounds that ran, lists the failed ones, and is an error only when all failed', () => {
    const a = ptRun([1, 2]);
    const b = ptRun([3, 4]);
    const partial = poolPtRounds([a, { error: 'exit 3' }, b]);
    expect(partial.failures).toEqual([{ round: 2, error: 'exit 3' }]);
    expect(partial.pytorch).toMatchObject({ epoch_s: [1, 2, 3, 4], epoch: { median: 2.5, min: 1, max: 4, n: 4 } });
    expect(poolPtRounds([{ error: 'x' }, { error: 'y' }, { error: 'x' }]).pytorch).toEqual({ error: 'x; y' });
    expect(poolPtRounds([a]).pytorch).toBe(a);
  });
});

describe('FLOP rates', () => {
  it('divides FLOPs by seconds into GFLOP/s, and refuses a missing or non-positive time', () => {
    expect(gflopsPerSecond(3e9, 1.5)).toBe(2);
    expect(gflopsPerSecond(3e9, 0)).toBeNull();
    expect(gflopsPerSecond(3e9, null)).toBeNull();
    expect(gflopsPerSecond(3e9, Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('gives a rate as a percentage of the peak, or null without one', () => {
    expect(percentOf(40, 160)).toBe(25);
    expect(percentOf(null, 160)).toBeNull();
    expect(percentOf(40, 0)).toBeNull();
  });

  it('rates a train pass and a val pass from their median seconds', () => {
    expect(passRates({ train: 8e9, val: 1e9 }, { median_train_s: 2, median_val_s: 0.5 }, 8)).toEqual({
      train_gflops: 4,
      val_gflops: 2,
      train_pct_of_peak: 50,
      val_pct_of_peak: 25,
    });
    expect(passRates({ train: 8e9, val: 1e9 }, { median_train_s: 2, median_val_s: null }, null)).toEqual({
      train_gflops: 4,
      val_gflops: null,
      train_pct_of_peak: null,
      val_pct_of_peak: null,
    });
  });
});
