import { autoSubmitEpisode, createEpisode, episodeOverResult, executeStep, gradeEpisode, gradeInputOf, parseEpisodeRecord, pythonRound, SEED_MAX, TOOL_NAMES } from '../../layers/core/src';
import { FormulaTrainer } from '../../layers/testing/src';
import { configure, play, run, status, submitCall } from './episode-helpers';

describe('createEpisode', () => {
  it('starts with the task seed and nothing spent', () => {
    const r = createEpisode('medium_fashion');
    expect(r).toMatchObject({ task_id: 'medium_fashion', seed: 123, status: 'active', step_count: 0, budget_used: 0, config: null });
    expect(parseEpisodeRecord(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('rejects an unknown task, listing the valid ids', () => {
    expect(() => createEpisode('imagenet')).toThrow('valid task ids: easy_mnist, medium_fashion, hard_cifar');
  });

  it('rejects a bad seed', () => {
    expect(() => createEpisode('easy_mnist', -1)).toThrow('seed');
    expect(() => createEpisode('easy_mnist', 1.5)).toThrow('seed');
  });

  it('accepts every seed of the wire contract, 0..SEED_MAX, and nothing beyond it', () => {
    expect(createEpisode('easy_mnist', 0).seed).toBe(0);
    expect(createEpisode('easy_mnist', SEED_MAX).seed).toBe(SEED_MAX);
    expect(() => createEpisode('easy_mnist', SEED_MAX + 1)).toThrow(`seed must be an integer from 0 to ${SEED_MAX}`);
  });
});

describe('a full scripted episode', () => {
  it('configures, trains, adjusts, augments, checks status and submits', async () => {
    const { results, record } = await play('easy_mnist', [
      configure({ optimizer: 'adamw', learning_rate: 0.002, lr_schedule: 'cosine' }),
      run(5),
      { tool: 'adjust_learning_rate', arguments: { new_lr: 0.0005 } },
      { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3 } },
      run(3),
      status,
      submitCall,
    ]);
    expect(results.map((r) => r.error)).toEqual(results.map(() => null));
    expect(results.map((r) => r.done)).toEqual([false, false, false, false, false, false, true]);
    expect(record.status).toBe('submitted');
    expect(record.step_count).toBe(7);
    expect(record.budget_used).toBe(8);
    expect(record.model.current_epoch).toBe(8);
    expect(results[1].data).toMatchObject({ epochs_just_trained: 5, current_epoch: 5, remaining_budget: 95, max_epochs: 100 });
    expect(results[4].data.convergence_signal).toBe('improving');
    const grade = gradeEpisode(gradeInputOf(record));
    expect(results[6].grade).toEqual(grade);
    expect(results[6].data.grade).toEqual(grade);
    expect(results[6].reward).toBe(grade.score);
    expect(record.total_reward).toBe(pythonRound(results.reduce((s, r) => s + r.reward, 0), 4));
    expect(record.steps.map((s) => s.tool)).toEqual([
      'configure_training',
      'run_epochs',
      'adjust_learning_rate',
      'toggle_augmentation',
      'run_epochs',
      'get_training_status',
      'submit_model',
    ]);
    // The record survives JSON (what a store keeps) unchanged.
    expect(parseEpisodeRecord(JSON.parse(JSON.stringify(record)))).toEqual(record);
  });

  it('never modifies the record it is given', async () => {
    const r0 = createEpisode('easy_mnist');
    const copy = structuredClone(r0);
    await executeStep(r0, configure(), FormulaTrainer.fresh({ taskId: 'easy_mnist', seed: 42 }));
    expect(r0).toEqual(copy);
  });
});

describe('observation', () => {
  it('is all zeros and empty lists before any epoch', async () => {
    const { last } = await play('hard_cifar', [status]);
    expect(last.data).toMatchObject({
      current_epoch: 0,
      max_epochs: 60,
      remaining_budget: 60,
      train_loss: 0,
      val_loss: 0,
      train_accuracy: 0,
      val_accuracy: 0,
      best_val_accuracy: 0,
      best_val_epoch: 0,
      loss_history_last_10: [],
      val_loss_history_last_10: [],
      convergence_signal: 'not_started',
      is_diverged: false,
      config: null,
    });
  });

  it('rounds losses to 6 decimals, accuracies and histories to 4, and keeps the last 10', async () => {
    const { last, record } = await play('easy_mnist', [configure(), run(12)]);
    const m = record.model;
    expect(last.data.train_loss).toBe(pythonRound(m.train_loss_history[11], 6));
    expect(last.data.val_loss).toBe(pythonRound(m.val_loss_history[11], 6));
    expect(last.data.val_accuracy).toBe(pythonRound(m.val_acc_history[11], 4));
    expect(last.data.loss_history_last_10).toEqual(m.train_loss_history.slice(2).map((v) => pythonRound(v, 4)));
    expect(last.data.val_loss_history_last_10).toHaveLength(10);
    expect(typeof last.data.epoch_time_seconds).toBe('number');
  });
});

describe('run_epochs', () => {
  it('needs a configuration first', async () => {
    const { last, record } = await play('easy_mnist', [run(3)]);
    expect(last.error).toMatchObject({ code: 'not_configured' });
    expect(last.error!.message).toContain('configure_training');
    expect(record.step_count).toBe(1);
    expect(record.budget_used).toBe(0);
  });

  it('clamps num_epochs to 1..20', async () => {
    const { results } = await play('easy_mnist', [configure(), run(0), run(-4), run(50), run()]);
    expect(results.slice(1).map((r) => r.data.epochs_just_trained)).toEqual([1, 1, 20, 10]);
  });

  it('clamps to the unspent budget and then trains nothing', async () => {
    const calls = [configure(), ...Array.from({ length: 4 }, () => run(20))];
    const { results, record } = await play('hard_cifar', calls);
    expect(results.slice(1).map((r) => r.data.epochs_just_trained)).toEqual([20, 20, 20, 0]);
    expect(results[4].data.message).toContain('budget is spent');
    expect(record.budget_used).toBe(60);
    expect(results[4].data.remaining_budget).toBe(0);
  });

  it('rejects a non-integer num_epochs', async () => {
    const { last } = await play('easy_mnist', [configure(), { tool: 'run_epochs', arguments: { num_epochs: 2.5 } }]);
    expect(last.error).toMatchObject({ code: 'invalid_arguments', field: 'num_epochs' });
  });
});

describe('divergence', () => {
  it('a loss above 100 diverges: the epoch is not recorded, the step pays −0.2, later runs train nothing', async () => {
    const { results, record } = await play('easy_mnist', [configure({ learning_rate: 2 }), run(5), run(5)]);
    expect(results[1].data).toMatchObject({ is_diverged: true, convergence_signal: 'diverged', epochs_just_trained: 1, train_loss: 250, val_loss: null });
    expect(results[1].reward_breakdown.divergence).toBe(-0.2);
    expect(results[1].reward).toBe(-0.2);
    expect(record.model.current_epoch).toBe(0);
    expect(record.budget_used).toBe(1);
    expect(results[2].data.epochs_just_trained).toBe(0);
    expect(results[2].reward).toBe(0);
  });

  it('a NaN loss travels as null', async () => {
    const { last } = await play('easy_mnist', [configure({ learning_rate: 6 }), run(2)]);
    expect(last.data.train_loss).toBeNull();
    expect(JSON.stringify(last.data)).not.toMatch(/NaN|Infinity/);
  });

  it('divergence after good epochs keeps them', async () => {
    const { last, record } = await play('easy_mnist', [configure(), run(3), { tool: 'adjust_learning_rate', arguments: { new_lr: 3 } }, run(3)]);
    expect(record.model.current_epoch).toBe(3);
    expect(last.data.epochs_just_trained).toBe(1);
    expect(last.reward_breakdown.divergence).toBe(-0.2);
  });

  it('a fresh model (dropout change) trains again', async () => {
    const { last } = await play('easy_mnist', [configure({ learning_rate: 2 }), run(2), configure({ dropout: 0.2 }), run(2)]);
    expect(last.data).toMatchObject({ is_diverged: false, epochs_just_trained: 2, current_epoch: 2 });
  });
});

describe('configure_training', () => {
  it('a dropout change builds a fresh model but never refunds the budget', async () => {
    const { results, record, trainer } = await play('medium_fashion', [configure(), run(10), configure({ dropout: 0.3 })]);
    expect(results[2].data).toMatchObject({ model_rebuilt: true, current_epoch: 0, best_val_accuracy: 0, remaining_budget: 70 });
    expect(record.budget_used).toBe(10);
    expect(record.model.generation).toBe(2);
    expect(trainer.snapshot.epochs).toBe(0);
    expect(record.schedule!.total_epochs).toBe(70);
  });

  it('other changes keep the weights; optimizer state is kept only for the same optimizer kind', async () => {
    const { trainer, results } = await play('easy_mnist', [configure(), run(3), configure({ learning_rate: 0.0005 })]);
    expect(results[2].data).toMatchObject({ model_rebuilt: false, current_epoch: 3 });
    expect(trainer.snapshot.optimizer_steps).toBe(3);
    const next = await play('easy_mnist', [configure({ optimizer: 'sgd' })], { record: results[2].record, trainer });
    expect(next.trainer.snapshot.optimizer_steps).toBe(0);
    expect(next.record.model.current_epoch).toBe(3);
  });

  it('restarts the schedule over the unspent budget from learning_rate', async () => {
    const { record } = await play('easy_mnist', [configure({ lr_schedule: 'cosine' }), run(4), configure({ lr_schedule: 'step', learning_rate: 0.01 })]);
    expect(record.schedule).toMatchObject({ kind: 'step', base_lr: 0.01, total_epochs: 96, position: 0, anchor: null });
  });

  it('omitted fields take their defaults, not the previous values', async () => {
    const { record } = await play('easy_mnist', [configure({ optimizer: 'sgd', batch_size: 256 }), configure({})]);
    expect(record.config).toMatchObject({ optimizer: 'adam', batch_size: 64, learning_rate: 0.001 });
  });

  it.each([
    [{ optimizer: 'rmsprop' }, 'optimizer', 'sgd'],
    [{ learning_rate: 0 }, 'learning_rate', '> 0 and ≤ 10'],
    [{ learning_rate: 11 }, 'learning_rate', '≤ 10'],
    [{ learning_rate: '0.1' }, 'learning_rate', 'finite number'],
    [{ batch_size: 100 }, 'batch_size', '32, 64, 128 or 256'],
    [{ weight_decay: -0.1 }, 'weight_decay', '0 ≤ x ≤ 1'],
    [{ weight_decay: 2 }, 'weight_decay', '0 ≤ x ≤ 1'],
    [{ dropout: 0.95 }, 'dropout', '0 ≤ p ≤ 0.9'],
    [{ lr_schedule: 'linear' }, 'lr_schedule', 'warmup_cosine'],
    [{ warmup_epochs: -1 }, 'warmup_epochs', 'integer ≥ 0'],
    [{ warmup_epochs: 1.5 }, 'warmup_epochs', 'integer ≥ 0'],
    [{ augmentation: 'yes' }, 'augmentation', 'on or off'],
    [{ augmentation_strength: 1.5 }, 'augmentation_strength', '0 ≤ s ≤ 1'],
    [{ momentum: 0.5 }, 'momentum', 'accepted arguments: optimizer, learning_rate'],
  ])('rejects %j naming %s and what is allowed, changing nothing but the step count', async (args, field, allowed) => {
    const { last, record } = await play('easy_mnist', [configure(), run(2), configure(args as Record<string, unknown>)]);
    expect(last.error).toMatchObject({ code: 'invalid_arguments', field });
    expect(last.error!.message).toContain(field);
    expect(last.error!.message).toContain(allowed);
    expect(last.data.error).toEqual(last.error);
    expect(record.step_count).toBe(3);
    expect(record.config).toMatchObject({ optimizer: 'adam', learning_rate: 0.001 });
    expect(record.model.current_epoch).toBe(2);
    expect(last.reward).toBe(0);
  });

  it('rejects arguments that are not an object', async () => {
    const { last } = await play('easy_mnist', [{ tool: 'configure_training', arguments: [1, 2] }]);
    expect(last.error).toMatchObject({ code: 'invalid_arguments' });
    expect(last.error!.message).toContain('JSON object');
  });
});

describe('adjust_learning_rate and toggle_augmentation', () => {
  it('adjust_learning_rate needs a configuration and validates new_lr', async () => {
    const { results } = await play('easy_mnist', [
      { tool: 'adjust_learning_rate', arguments: { new_lr: 0.1 } },
      configure(),
      { tool: 'adjust_learning_rate', arguments: {} },
      { tool: 'adjust_learning_rate', arguments: { new_lr: 20 } },
      { tool: 'adjust_learning_rate', arguments: { new_lr: 0.01 } },
      run(1),
    ]);
    expect(results[0].error).toMatchObject({ code: 'not_configured' });
    expect(results[2].error).toMatchObject({ code: 'invalid_arguments', field: 'new_lr' });
    expect(results[3].error).toMatchObject({ code: 'invalid_arguments', field: 'new_lr' });
    expect(results[4].data.learning_rate_next_epoch).toBe(0.01);
    expect(results[5].record.model.lr_history).toEqual([0.01]);
  });

  it('toggle_augmentation changes only the data pipeline and clamps strength', async () => {
    const { results, trainer } = await play('easy_mnist', [
      configure({ optimizer: 'sgd', lr_schedule: 'cosine' }),
      run(3),
      { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 7 } },
    ]);
    expect(results[2].error).toBeNull();
    expect(results[2].record.schedule).toEqual(results[1].record.schedule);
    expect(trainer.snapshot.optimizer_steps).toBe(3);
    expect(trainer.snapshot.augmentation).toEqual({ enabled: true, strength: 1 });
    expect(results[2].record.config).toMatchObject({ augmentation: true, augmentation_strength: 1 });
  });

  it('toggle_augmentation needs a configuration first', async () => {
    const { last } = await play('easy_mnist', [{ tool: 'toggle_augmentation' }]);
    expect(last.error).toMatchObject({ code: 'not_configured' });
  });
});

describe('step limit and the end of an episode', () => {
  it('auto-submits on the 15th step, adding the grade to that step reward', async () => {
    const calls = [configure(), ...Array.from({ length: 14 }, () => run(1))];
    const { results, record } = await play('easy_mnist', calls);
    expect(results.slice(0, 14).every((r) => !r.done)).toBe(true);
    const last = results[14];
    expect(last.done).toBe(true);
    expect(record.status).toBe('auto_submitted');
    expect(last.data.auto_submitted).toBe(true);
    expect(last.grade).toEqual(gradeEpisode(gradeInputOf(record)));
    expect(last.reward_breakdown.submission).toBe(last.grade!.score);
    expect(last.reward).toBe(
      pythonRound(
        last.reward_breakdown.progress +
          last.reward_breakdown.convergence +
          last.reward_breakdown.overfitting +
          last.reward_breakdown.wasted_compute +
          last.grade!.score,
        4,
      ),
    );
  });

  it('erroneous calls count as steps too', async () => {
    const calls = Array.from({ length: 15 }, () => ({ tool: 'no_such_tool' }));
    const { results, record } = await play('easy_mnist', calls);
    expect(results[0].error).toMatchObject({ code: 'unknown_tool' });
    expect(results[0].error!.message).toContain(TOOL_NAMES.join(', '));
    expect(record.step_count).toBe(15);
    expect(record.status).toBe('auto_submitted');
  });

  it('after the end every tool answers that the episode is over and nothing changes', async () => {
    const { record } = await play('easy_mnist', [configure(), run(2), submitCall]);
    for (const call of [run(1), status, submitCall, { tool: 'bogus' }]) {
      const r = await executeStep(record, call, FormulaTrainer.fresh({ taskId: 'easy_mnist', seed: 42 }));
      expect(r.error).toMatchObject({ code: 'episode_over' });
      expect(r.done).toBe(true);
      expect(r.reward).toBe(0);
      expect(r.record).toBe(record);
    }
  });

  it('gives the same episode_over answer without a trainer (episodeOverResult)', async () => {
    const { record } = await play('easy_mnist', [configure(), run(2), submitCall]);
    for (const call of [run(1), status, { tool: 'bogus' }]) {
      const executed = await executeStep(record, call, FormulaTrainer.fresh({ taskId: 'easy_mnist', seed: 42 }));
      expect(JSON.stringify(episodeOverResult(record, call))).toBe(JSON.stringify(executed));
    }
  });

  it('grades the best epoch of the current model, not the last', async () => {
    const { record, last } = await play('medium_fashion', [configure(), run(20), run(20), submitCall]);
    const best = Math.max(...record.model.val_acc_history);
    expect(record.model.best_val_accuracy).toBe(best);
    expect(record.model.best_val_epoch).toBe(record.model.val_acc_history.indexOf(best) + 1);
    expect(last.grade!.details.val_accuracy).toBe(pythonRound(best, 4));
  });

  it('submitting before training grades zero accuracy', async () => {
    const { last } = await play('easy_mnist', [submitCall]);
    expect(last.grade).toEqual({ score: 0.0001, details: { val_accuracy: 0, accuracy_score: 0.0001 } });
  });
});

describe('error messages stay small whatever the input', () => {
  it('quotes a huge argument value, unknown key or tool name cut short', async () => {
    const huge = 'x'.repeat(100_000);
    const { results } = await play('easy_mnist', [
      configure({ optimizer: huge }),
      configure({ [huge]: 1 }),
      { tool: huge },
    ]);
    for (const r of results) {
      expect(r.error).not.toBeNull();
      expect(r.error!.message.length).toBeLessThan(600);
      expect(JSON.stringify(r.record).length).toBeLessThan(20_000);
    }
  });
});

describe('validation messages read cleanly', () => {
  it('end with exactly one period', async () => {
    const { last } = await play('easy_mnist', [configure({ learning_rate: 50 })]);
    expect(last.error!.message).toMatch(/[^.]\.$/);
    expect(last.error!.message).not.toContain('..');
  });
});

describe('autoSubmitEpisode (an abandoned episode)', () => {
  it('ends it as the step limit would, without a step or reward', async () => {
    const { record } = await play('easy_mnist', [configure(), run(4)]);
    const { record: ended, grade } = autoSubmitEpisode(record);
    expect(ended).toMatchObject({ status: 'auto_submitted', step_count: 2, total_reward: record.total_reward });
    expect(grade).toEqual(gradeEpisode(gradeInputOf(record)));
    expect(ended.grade).toEqual(grade);
    expect(record.status).toBe('active');
    expect(() => autoSubmitEpisode(ended)).toThrow('episode is over');
  });
});
