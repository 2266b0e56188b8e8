import {
  epochsOfProgress,
  MAX_EPOCHS_PER_CALL,
  parseStepProgress,
  STEP_PROGRESS_MAX_EPOCHS,
  stepStatusPath,
  withEpoch,
  type EpochProgress,
  type StepProgress,
} from '../../layers/core/src';

const epoch = (index: number, total: number, extra: Partial<EpochProgress> = {}): EpochProgress => ({
  epoch: 10 + index,
  index,
  total,
  learning_rate: 0.001,
  train_loss: 1 / index,
  train_accuracy: 0.5,
  val_loss: 1.1 / index,
  val_accuracy: 0.45,
  seconds: 0.25,
  diverged: false,
  ...extra,
});

describe('step progress (what a running step reports to remote clients)', () => {
  it('adds epochs without changing its input, and keeps only the last STEP_PROGRESS_MAX_EPOCHS', () => {
    const one = withEpoch(undefined, epoch(1, 3));
    const two = withEpoch(one, epoch(2, 3));
    expect(one.epochs).toHaveLength(1);
    expect(two).toMatchObject({ epochs_done: 2, epochs_planned: 3 });
    expect(two.epochs.map((e) => e.index)).toEqual([1, 2]);
    let many: StepProgress | undefined;
    for (let i = 1; i <= MAX_EPOCHS_PER_CALL; i++) many = withEpoch(many, epoch(i, MAX_EPOCHS_PER_CALL));
    expect(STEP_PROGRESS_MAX_EPOCHS).toBeLessThanOrEqual(20);
    expect(many!.epochs.length).toBeLessThanOrEqual(STEP_PROGRESS_MAX_EPOCHS);
    expect(many!.epochs.at(-1)!.index).toBe(MAX_EPOCHS_PER_CALL);
    expect(many!.epochs_done).toBe(MAX_EPOCHS_PER_CALL);
    expect(parseStepProgress(JSON.parse(JSON.stringify(many)))).toEqual(many);
  });

  it('drops the oldest epochs past STEP_PROGRESS_MAX_EPOCHS, whatever the caller feeds it', () => {
    const total = STEP_PROGRESS_MAX_EPOCHS + 3;
    let long: StepProgress | undefined;
    for (let i = 1; i <= total; i++) long = withEpoch(long, epoch(i, total));
    expect(long!.epochs.map((e) => e.index)).toEqual(Array.from({ length: STEP_PROGRESS_MAX_EPOCHS }, (_, k) => k + 4));
    expect(long!.epochs_done).toBe(total);
  });

  it('carries a diverged epoch as null (no NaN on the wire or in DynamoDB) and gives it back as NaN', () => {
    const diverged = withEpoch(undefined, epoch(1, 2, { train_loss: Number.NaN, train_accuracy: Number.NaN, val_loss: null, val_accuracy: null, diverged: true }));
    expect(JSON.stringify(diverged)).not.toMatch(/NaN|Infinity/);
    expect(diverged.epochs[0]).toMatchObject({ train_loss: null, train_accuracy: null, val_loss: null, diverged: true });
    const [back] = epochsOfProgress(parseStepProgress(JSON.parse(JSON.stringify(diverged)))!);
    expect(back).toMatchObject({ index: 1, total: 2, val_loss: null, diverged: true });
    expect(back!.train_loss).toBeNaN();
    expect(back!.train_accuracy).toBeNaN();
  });

  it('gives back the EpochProgress a display prints', () => {
    const progress = withEpoch(withEpoch(undefined, epoch(1, 2)), epoch(2, 2));
    expect(epochsOfProgress(progress)).toEqual([epoch(1, 2), epoch(2, 2)]);
  });

  it('refuses what is not a progress: extra keys, too many epochs, out-of-range figures', () => {
    const good = withEpoch(undefined, epoch(1, 2));
    expect(parseStepProgress(good)).toEqual(good);
    expect(parseStepProgress({ ...good, extra: 1 })).toBeUndefined();
    expect(parseStepProgress({ ...good, epochs: Array.from({ length: STEP_PROGRESS_MAX_EPOCHS + 1 }, () => good.epochs[0]) })).toBeUndefined();
    expect(parseStepProgress({ ...good, epochs_planned: MAX_EPOCHS_PER_CALL + 1 })).toBeUndefined();
    expect(parseStepProgress({ ...good, epochs: [{ ...good.epochs[0], val_accuracy: 2 }] })).toBeUndefined();
    expect(parseStepProgress('progress')).toBeUndefined();
    expect(parseStepProgress(undefined)).toBeUndefined();
  });

  it('names the status path of a step with its ids encoded', () => {
    expect(stepStatusPath('ep 1', 'a/b')).toBe('/v1/episodes/ep%201/steps/a%2Fb');
  });
});
