// The step rules on their boundaries, with a trainer that reports exactly the metrics a case
// needs: the divergence limit (a loss of exactly 100 trains on), a non-finite val loss, a tied
// best accuracy, the time an epoch took, the log of a step, and which calls need training data.
import {
  createEpisode,
  epochsThisCallTrains,
  executeStep,
  isDivergedLoss,
  needsTrainingData,
  STEP_REASON_MAX_LENGTH,
  type EpisodeRecord,
  type EpochProgress,
  type ToolCall,
} from '../../layers/core/src';
import { configure, run, status, submitCall } from './episode-helpers';
import { epoch, ScriptedTrainer, type ScriptedEpoch } from './scripted-trainer';

/** A configured easy_mnist episode driven by a scripted trainer, then the given calls. */
async function playScripted(epochs: readonly ScriptedEpoch[], calls: ToolCall[], onEpoch?: (p: EpochProgress) => void) {
  const trainer = new ScriptedTrainer(epochs);
  let record = (await executeStep(createEpisode('easy_mnist'), configure(), trainer)).record;
  const results = [];
  for (const call of calls) {
    const result = await executeStep(record, call, trainer, { onEpoch });
    results.push(result);
    record = result.record;
  }
  return { trainer, record, results, last: results[results.length - 1] };
}

describe('isDivergedLoss', () => {
  it('a loss of exactly 100 has not diverged; anything above, NaN or infinite has', () => {
    expect(isDivergedLoss(100)).toBe(false);
    expect(isDivergedLoss(-5)).toBe(false);
    expect(isDivergedLoss(100.001)).toBe(true);
    expect(isDivergedLoss(Number.NaN)).toBe(true);
    expect(isDivergedLoss(Number.POSITIVE_INFINITY)).toBe(true);
    expect(isDivergedLoss(Number.NEGATIVE_INFINITY)).toBe(true);
  });
});

describe('divergence while training', () => {
  it('an epoch with a training loss of exactly 100 is recorded and evaluated', async () => {
    const { record, last, trainer } = await playScripted([epoch(100, 2, 0.3)], [run(1)]);
    expect(last.data).toMatchObject({ is_diverged: false, train_loss: 100, val_loss: 2 });
    expect(record.model.train_loss_history).toEqual([100]);
    expect(trainer.calls).toContain('evaluate');
  });

  it('a training loss above 100 is not evaluated; the diverged loss is kept', async () => {
    const { record, trainer } = await playScripted([epoch(100.5, 2, 0.3)], [run(3)]);
    expect(record.model).toMatchObject({ diverged: true, diverged_train_loss: 100.5, current_epoch: 0 });
    expect(trainer.calls).not.toContain('evaluate');
  });

  it('an infinite training loss is kept as null', async () => {
    const { record } = await playScripted([epoch(Number.POSITIVE_INFINITY, 2, 0.3)], [run(1)]);
    expect(record.model).toMatchObject({ diverged: true, diverged_train_loss: null });
  });

  it('a non-finite val loss diverges the model too, keeping the finite training loss', async () => {
    const { record, last } = await playScripted([epoch(1.5, 1.2, 0.4), epoch(3, Number.NaN, 0.1)], [run(5)]);
    expect(record.model).toMatchObject({ diverged: true, diverged_train_loss: 3, current_epoch: 1, val_loss_history: [1.2] });
    expect(last.data).toMatchObject({ epochs_just_trained: 2, is_diverged: true, train_loss: 3, val_loss: null });
    expect(last.reward_breakdown.divergence).toBe(-0.2);
    expect(record.budget_used).toBe(2);
    expect(record.steps[1].epochs_trained).toBe(2);
  });

  it('an infinite val loss diverges the model', async () => {
    const { record } = await playScripted([epoch(1.5, Number.POSITIVE_INFINITY, 0.4)], [run(1)]);
    expect(record.model).toMatchObject({ diverged: true, current_epoch: 0 });
  });
});

describe('the best epoch', () => {
  it('a tie keeps the first epoch and does not keep its weights again; a rise does', async () => {
    const { record, trainer } = await playScripted([epoch(1, 1, 0.5), epoch(0.9, 0.9, 0.5), epoch(0.8, 0.8, 0.6), epoch(0.7, 0.7, 0.55)], [run(4)]);
    expect(record.model).toMatchObject({ best_val_accuracy: 0.6, best_val_epoch: 3 });
    expect(trainer.calls.filter((c) => c === 'keepBestWeights')).toHaveLength(2);
    expect(trainer.calls.slice(1)).toEqual([
      'trainEpoch', 'evaluate', 'keepBestWeights',
      'trainEpoch', 'evaluate',
      'trainEpoch', 'evaluate', 'keepBestWeights',
      'trainEpoch', 'evaluate',
    ]);
  });

  it('an accuracy of 0 is no improvement over the fresh model', async () => {
    const { record, trainer } = await playScripted([epoch(1, 1, 0)], [run(1)]);
    expect(record.model).toMatchObject({ best_val_accuracy: 0, best_val_epoch: 0 });
    expect(trainer.calls).not.toContain('keepBestWeights');
  });
});

describe('epoch time and progress', () => {
  it('epoch_time_seconds is the mean of train and val time per epoch, rounded to 3 decimals', async () => {
    const seconds = { train: 1.2, val: 0.3004 };
    const { last } = await playScripted([epoch(1, 1, 0.5, seconds), epoch(0.9, 0.9, 0.6, seconds)], [run(2)]);
    expect(last.data.epoch_time_seconds).toBe(1.5);
  });

  it('a diverged epoch counts its training time only', async () => {
    const { last } = await playScripted(
      [epoch(1, 1, 0.5, { train: 1, val: 1 }), epoch(2, Number.NaN, 0.1, { train: 1, val: 7 })],
      [run(2)],
    );
    expect(last.data.epoch_time_seconds).toBe(1.5);
  });

  it('reports every epoch as it ends, the diverged one included', async () => {
    const progress: EpochProgress[] = [];
    await playScripted(
      [epoch(1, 1.1, 0.5, { train: 1, val: 0.5 }), epoch(2, Number.NaN, 0.1, { train: 1, val: 7 })],
      [run(5)],
      (p) => progress.push(p),
    );
    expect(progress).toEqual([
      { epoch: 1, index: 1, total: 5, learning_rate: 0.001, train_loss: 1, train_accuracy: 0.5, val_loss: 1.1, val_accuracy: 0.5, seconds: 1.5, diverged: false },
      { epoch: 1, index: 2, total: 5, learning_rate: 0.001, train_loss: 2, train_accuracy: 0.5, val_loss: Number.NaN, val_accuracy: 0.1, seconds: 8, diverged: true },
    ]);
  });

  it('an epoch not evaluated reports no val metrics', async () => {
    const progress: EpochProgress[] = [];
    await playScripted([epoch(500, 1, 0.5, { train: 2, val: 9 })], [run(1)], (p) => progress.push(p));
    expect(progress).toEqual([
      { epoch: 0, index: 1, total: 1, learning_rate: 0.001, train_loss: 500, train_accuracy: 0.5, val_loss: null, val_accuracy: null, seconds: 2, diverged: true },
    ]);
  });
});

describe('the step log', () => {
  it('keeps arguments up to 2048 characters of JSON and replaces longer ones by a marker', async () => {
    const fits = { a: 'x'.repeat(2040) }; // {"a":"…"} is 2048 characters
    const over = { a: 'x'.repeat(2041) };
    const { record } = await playScripted([], [
      { tool: 'get_training_status', arguments: fits },
      { tool: 'get_training_status', arguments: over },
      { tool: 'get_training_status' },
    ]);
    expect(JSON.stringify(fits)).toHaveLength(2048);
    expect(record.steps.slice(1).map((s) => s.arguments)).toEqual([fits, { omitted: 'arguments of 2049 characters' }, {}]);
  });

  it('cuts a logged tool name to 128 characters; the result names it whole', async () => {
    const name = 't'.repeat(300);
    const { last, record } = await playScripted([], [{ tool: name }]);
    expect(record.steps[1].tool).toBe('t'.repeat(128));
    expect(last.tool).toBe(name);
  });

  it('logs each step with its reward, error, epochs and model generation', async () => {
    const { record, results } = await playScripted([epoch(1, 1, 0.5)], [run(1), status, configure({ dropout: 0.1 }), { tool: 'run_epochs', arguments: { num_epochs: 1.5 } }]);
    expect(record.steps.map(({ step, epochs_trained, model_generation, error, reward }) => ({ step, epochs_trained, model_generation, error, reward }))).toEqual([
      { step: 1, epochs_trained: 0, model_generation: 1, error: null, reward: 0 },
      { step: 2, epochs_trained: 1, model_generation: 1, error: null, reward: results[0].reward },
      { step: 3, epochs_trained: 0, model_generation: 1, error: null, reward: 0 },
      { step: 4, epochs_trained: 0, model_generation: 2, error: null, reward: 0 },
      { step: 5, epochs_trained: 0, model_generation: 2, error: { code: 'invalid_arguments', field: 'num_epochs', message: expect.any(String), allowed: expect.anything() }, reward: 0 },
    ]);
  });

  it('stores a reason cleaned and bounded, and no reason for a non-string or blank one', async () => {
    const long = 'r'.repeat(STEP_REASON_MAX_LENGTH + 5);
    const { record } = await playScripted([], [
      { tool: 'get_training_status', reason: ' look\u0007 first ' },
      { tool: 'get_training_status', reason: long },
      { tool: 'get_training_status', reason: 42 as never },
      { tool: 'get_training_status', reason: '   ' },
    ]);
    expect(record.steps.slice(1).map((s) => s.reason)).toEqual(['look first', `${'r'.repeat(STEP_REASON_MAX_LENGTH - 1)}…`, undefined, undefined]);
    expect(record.steps[3]).not.toHaveProperty('reason');
  });
});

describe('which calls train (epochsThisCallTrains, needsTrainingData)', () => {
  async function configured(): Promise<EpisodeRecord> {
    return (await playScripted([], [])).record;
  }

  it('run_epochs on a configured, live, active episode trains its clamped epochs', async () => {
    const record = await configured();
    expect(epochsThisCallTrains(record, run(3))).toBe(3);
    expect(epochsThisCallTrains(record, run(0))).toBe(1);
    expect(epochsThisCallTrains(record, run(99))).toBe(20);
    expect(epochsThisCallTrains(record, run())).toBe(10);
    expect(epochsThisCallTrains({ ...record, budget_used: 97 }, run(20))).toBe(3);
    expect(needsTrainingData(record, run(1))).toBe(true);
  });

  it('nothing else trains: other tools, bad arguments, no configuration, a spent budget, a diverged model, an ended episode', async () => {
    const record = await configured();
    const none: Array<[EpisodeRecord, ToolCall]> = [
      [record, status],
      [record, submitCall],
      [record, { tool: 'run_epochs', arguments: { num_epochs: 1.5 } }],
      [record, { tool: 'run_epochs', arguments: 'three' }],
      [createEpisode('easy_mnist'), run(3)],
      [{ ...record, budget_used: 100 }, run(3)],
      [{ ...record, model: { ...record.model, diverged: true } }, run(3)],
      [{ ...record, status: 'submitted' }, run(3)],
      [{ ...record, status: 'auto_submitted' }, run(3)],
    ];
    for (const [r, call] of none) {
      expect(epochsThisCallTrains(r, call)).toBe(0);
      expect(needsTrainingData(r, call)).toBe(false);
    }
  });
});

describe('a configuration without a schedule', () => {
  it('is not a configuration: the training tools refuse it', async () => {
    const { record } = await playScripted([], []);
    const broken = { ...record, schedule: null };
    const result = await executeStep(broken, run(1), new ScriptedTrainer([epoch(1, 1, 0.5)]));
    expect(result.error).toMatchObject({ code: 'not_configured' });
    expect(epochsThisCallTrains(broken, run(1))).toBe(0);
  });
});

describe('toggle_augmentation', () => {
  it('clamps a negative strength to 0 and tells the trainer', async () => {
    const { last, trainer } = await playScripted([], [{ tool: 'toggle_augmentation', arguments: { enabled: true, strength: -2 } }]);
    expect(last.data).toMatchObject({ augmentation: true, augmentation_strength: 0 });
    expect(trainer.calls).toContain('setAugmentation true 0');
  });
});

describe('configure_training and the trainer', () => {
  it('builds on the first call and on a dropout change, applies otherwise, keeping optimizer state only for the same optimizer', async () => {
    const { trainer } = await playScripted([], [
      configure({ learning_rate: 0.01 }),
      configure({ optimizer: 'sgd' }),
      configure({ optimizer: 'sgd', dropout: 0.5 }),
    ]);
    expect(trainer.calls).toEqual(['buildModel', 'applyConfig keep=true', 'applyConfig keep=false', 'buildModel']);
  });
});

describe('the edges of a step', () => {
  it('logs arguments JSON cannot express (an in-process caller passing a function) as null', async () => {
    const { record, last } = await playScripted([], [{ tool: 'get_training_status', arguments: () => 1 }]);
    expect(last.error).toMatchObject({ code: 'invalid_arguments' });
    expect(record.steps[1].arguments).toBeNull();
  });

  it('lets a trainer fault propagate as it is, not as a step', async () => {
    const fault = new Error('disk full');
    const trainer = new ScriptedTrainer([]);
    trainer.buildModel = () => Promise.reject(fault);
    await expect(executeStep(createEpisode('easy_mnist'), configure(), trainer)).rejects.toBe(fault);
  });

  it('a submission on the last step is a submission, not an auto-submission', async () => {
    const { last, record } = await playScripted([], [...Array.from({ length: 13 }, () => status), submitCall]);
    expect(record.step_count).toBe(15);
    expect(record.status).toBe('submitted');
    expect(last.data).not.toHaveProperty('auto_submitted');
    expect(last.data.message).toBe(`Submitted. Score ${last.grade!.score}.`);
  });
});

describe('a schedule without a configuration', () => {
  it('is not a configuration either: the training tools refuse it', async () => {
    const { record } = await playScripted([], []);
    const broken = { ...record, config: null };
    const result = await executeStep(broken, run(1), new ScriptedTrainer([epoch(1, 1, 0.5)]));
    expect(result.error).toMatchObject({ code: 'not_configured' });
    expect(result.record.budget_used).toBe(0);
  });
});
