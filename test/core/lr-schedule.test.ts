import { advanceSchedule, buildSchedule, learningRateAt, rescaleSchedule, scheduleFactor } from '../../layers/core/src';

describe('learning-rate schedules', () => {
  it('constant', () => {
    const s = buildSchedule('constant', 0.01, 30, 5);
    expect([0, 7, 29].map((e) => learningRateAt(s, e))).toEqual([0.01, 0.01, 0.01]);
  });

  it('step: ×0.1 every floor(T/3) epochs, at least every epoch', () => {
    const s = buildSchedule('step', 1, 30, 0);
    expect([0, 9, 10, 19, 20].map((e) => learningRateAt(s, e))).toEqual([1, 1, 0.1, 0.1, 0.1 ** 2]);
    expect(scheduleFactor({ kind: 'step', total_epochs: 2, warmup_epochs: 0 }, 3)).toBeCloseTo(0.001, 12);
  });

  it('cosine anneals to 0 over T', () => {
    const s = buildSchedule('cosine', 0.1, 10, 0);
    expect(learningRateAt(s, 0)).toBe(0.1);
    expect(learningRateAt(s, 5)).toBeCloseTo(0.05, 12);
    expect(learningRateAt(s, 10)).toBeCloseTo(0, 12);
  });

  it('warmup_cosine: (e+1)/w during warm-up, then cosine over T−w', () => {
    const s = buildSchedule('warmup_cosine', 1, 25, 5);
    expect([0, 1, 4].map((e) => learningRateAt(s, e))).toEqual([0.2, 0.4, 1]);
    expect(learningRateAt(s, 5)).toBe(1);
    expect(learningRateAt(s, 15)).toBeCloseTo(0.5, 12);
    const noWarmup = buildSchedule('warmup_cosine', 1, 10, 0);
    expect(learningRateAt(noWarmup, 0)).toBe(1);
  });

  it('adjusting keeps the shape and makes the next epoch exactly new_lr', () => {
    let s = buildSchedule('cosine', 0.1, 10, 0);
    s = advanceSchedule(advanceSchedule(s));
    const ratio = learningRateAt(s, 6) / learningRateAt(s, 2);
    s = rescaleSchedule(s, 0.3);
    expect(learningRateAt(s)).toBe(0.3);
    expect(learningRateAt(s, 6) / learningRateAt(s, 2)).toBeCloseTo(ratio, 12);
    expect(s.kind).toBe('cosine');
  });

  it('a schedule whose value now is 0 becomes constant at new_lr', () => {
    const s = advanceSchedule(advanceSchedule(buildSchedule('cosine', 0.1, 2, 0)));
    expect(learningRateAt(s)).toBe(0);
    const rescaled = rescaleSchedule(s, 0.02);
    expect(rescaled.kind).toBe('constant');
    expect(learningRateAt(rescaled)).toBe(0.02);
    expect(learningRateAt(advanceSchedule(rescaled))).toBe(0.02);
  });
});

describe('learning-rate schedules at their edges', () => {
  it('a schedule over no epochs (T = 0) starts at its base rate', () => {
    expect(learningRateAt(buildSchedule('cosine', 0.1, 0, 0), 0)).toBe(0.1);
    expect(learningRateAt(buildSchedule('step', 0.1, 0, 0), 0)).toBe(0.1);
    expect(learningRateAt(buildSchedule('warmup_cosine', 0.1, 3, 3), 3)).toBe(0.1);
  });

  it('a learning rate that underflows to 0 cannot be rescaled either: the schedule becomes constant at new_lr', () => {
    // 5e-324 is a valid learning rate (> 0); times a factor below 1/2 it rounds to 0.
    let s = buildSchedule('cosine', 5e-324, 10, 0);
    for (let i = 0; i < 6; i++) s = advanceSchedule(s);
    expect(learningRateAt(s)).toBe(0);
    expect(scheduleFactor(s, s.position)).toBeGreaterThan(0);
    const rescaled = rescaleSchedule(s, 0.01);
    expect(rescaled).toMatchObject({ kind: 'constant', base_lr: 0.01, anchor: null, position: 6 });
    expect(learningRateAt(advanceSchedule(rescaled))).toBe(0.01);
  });

  it('cosine ignores warmup_epochs (configure_training defaults it to 5 for every schedule)', () => {
    const s = buildSchedule('cosine', 0.1, 10, 5);
    expect(learningRateAt(s, 0)).toBe(0.1);
    expect(learningRateAt(s, 5)).toBeCloseTo(0.05, 12);
  });

  it('a schedule at a factor of 0 whose anchor sits at a factor of 0 too (rate 0/0, NaN) becomes constant at new_lr', () => {
    // Only a damaged record holds such an anchor; rescaling must still give a usable schedule.
    const s = { ...buildSchedule('cosine', 0.1, 10, 0), position: 10, anchor: { position: 10, lr: 0.2 } };
    expect(learningRateAt(s)).toBeNaN();
    expect(rescaleSchedule(s, 0.01)).toMatchObject({ kind: 'constant', base_lr: 0.01, anchor: null, position: 10 });
  });

  it('an anchored schedule keeps its anchor position as it advances', () => {
    const s = rescaleSchedule(advanceSchedule(buildSchedule('step', 1, 30, 0)), 0.5);
    expect(s.anchor).toEqual({ position: 1, lr: 0.5 });
    const later = advanceSchedule(s);
    expect(later).toMatchObject({ position: 2, anchor: { position: 1, lr: 0.5 } });
    expect(learningRateAt(later, 10)).toBeCloseTo(0.05, 12);
  });
});
