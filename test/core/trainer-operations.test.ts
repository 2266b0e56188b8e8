// Recording the trainer calls a step makes without training data, and replaying them on a real
// trainer later (trainer-operations.ts), judged by the core alone: the cloud's api function
// records, its training function replays, and the two must leave the trainer in the same state.
import {
  DEFAULT_TRAINING_CONFIG,
  MAX_STEPS,
  RecordingTrainer,
  RecordingTrainerMisuse,
  replayTrainerOperations,
  trainerOperationSchema,
  trainerOperationsSchema,
  type TrainerOperation,
} from '../../layers/core/src';
import { ScriptedTrainer } from './scripted-trainer';

const sgd = { ...DEFAULT_TRAINING_CONFIG, optimizer: 'sgd' as const };

describe('RecordingTrainer', () => {
  it('writes down each model-changing call after the pending ones, with its arguments', async () => {
    const pending: TrainerOperation[] = [{ op: 'set_augmentation', enabled: false, strength: 0 }];
    const recorder = new RecordingTrainer(pending);
    await recorder.buildModel(DEFAULT_TRAINING_CONFIG);
    await recorder.applyConfig(sgd, { keepOptimizerState: false });
    await recorder.applyConfig(sgd, { keepOptimizerState: true });
    await recorder.setAugmentation({ enabled: true, strength: 0.7 });
    expect(recorder.pending).toEqual([
      { op: 'set_augmentation', enabled: false, strength: 0 },
      { op: 'build_model', config: DEFAULT_TRAINING_CONFIG },
      { op: 'apply_config', config: sgd, keep_optimizer_state: false },
      { op: 'apply_config', config: sgd, keep_optimizer_state: true },
      { op: 'set_augmentation', enabled: true, strength: 0.7 },
    ]);
    expect(pending).toHaveLength(1);
    expect(new RecordingTrainer().pending).toEqual([]);
  });

  it.each(['trainEpoch', 'evaluate', 'keepBestWeights', 'saveCheckpoint'] as const)('refuses %s, naming it and the routing', async (method) => {
    const error = await new RecordingTrainer()[method]().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RecordingTrainerMisuse);
    expect(error).toMatchObject({
      name: 'RecordingTrainerMisuse',
      message: `${method} was called on a recording trainer: a step that needs the training data was routed away from the training function.`,
    });
  });

  it('dispose does nothing and the recording stays readable', async () => {
    const recorder = new RecordingTrainer();
    await recorder.buildModel(DEFAULT_TRAINING_CONFIG);
    recorder.dispose();
    expect(recorder.pending).toHaveLength(1);
  });
});

describe('replayTrainerOperations', () => {
  it('makes each operation on the trainer, in order', async () => {
    const trainer = new ScriptedTrainer([]);
    await replayTrainerOperations(trainer, [
      { op: 'build_model', config: DEFAULT_TRAINING_CONFIG },
      { op: 'apply_config', config: sgd, keep_optimizer_state: true },
      { op: 'set_augmentation', enabled: true, strength: 0.25 },
      { op: 'apply_config', config: sgd, keep_optimizer_state: false },
    ]);
    expect(trainer.calls).toEqual(['buildModel', 'applyConfig keep=true', 'setAugmentation true 0.25', 'applyConfig keep=false']);
  });

  it('a recording replayed reaches the trainer as the direct calls would', async () => {
    const recorder = new RecordingTrainer();
    const direct = new ScriptedTrainer([]);
    for (const t of [recorder, direct]) {
      await t.buildModel(DEFAULT_TRAINING_CONFIG);
      await t.setAugmentation({ enabled: false, strength: 1 });
      await t.applyConfig(sgd, { keepOptimizerState: false });
    }
    const replayed = new ScriptedTrainer([]);
    await replayTrainerOperations(replayed, recorder.pending);
    expect(replayed.calls).toEqual(direct.calls);
  });
});

describe('the stored operations', () => {
  it('accept what a recording holds and refuse a strength outside [0, 1], unknown fields and more than one per step', () => {
    expect(trainerOperationSchema.safeParse({ op: 'set_augmentation', enabled: true, strength: 1 }).success).toBe(true);
    expect(trainerOperationSchema.safeParse({ op: 'set_augmentation', enabled: true, strength: 0 }).success).toBe(true);
    expect(trainerOperationSchema.safeParse({ op: 'set_augmentation', enabled: true, strength: 1.01 }).success).toBe(false);
    expect(trainerOperationSchema.safeParse({ op: 'set_augmentation', enabled: true, strength: -0.01 }).success).toBe(false);
    expect(trainerOperationSchema.safeParse({ op: 'build_model', config: DEFAULT_TRAINING_CONFIG, extra: 1 }).success).toBe(false);
    const op: TrainerOperation = { op: 'build_model', config: DEFAULT_TRAINING_CONFIG };
    expect(trainerOperationsSchema.safeParse(Array.from({ length: MAX_STEPS }, () => op)).success).toBe(true);
    expect(trainerOperationsSchema.safeParse(Array.from({ length: MAX_STEPS + 1 }, () => op)).success).toBe(false);
  });
});
