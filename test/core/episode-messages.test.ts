// What the agent reads after each call: every tool's message word for word, and the error
// messages of calls the core refuses. An agent (an LLM) acts on these sentences, so a changed
// word is a changed behaviour.
import { autoSubmitEpisode, CoreError, createEpisode, executeStep, SEED_MAX, type CoreErrorInfo } from '../../layers/core/src';
import { FormulaTrainer } from '../../layers/testing/src';
import { configure, play, run, status, submitCall } from './episode-helpers';

/** The CoreError a call throws, as the agent receives it. */
function refusal(call: () => unknown): CoreErrorInfo {
  try {
    call();
  } catch (error) {
    if (error instanceof CoreError) return error.toInfo();
    throw error;
  }
  throw new Error('expected a CoreError, got none');
}

describe('configure_training says what it did', () => {
  it('the first call builds the model, over the whole budget', async () => {
    const { last } = await play('easy_mnist', [configure({ learning_rate: 0.002 })]);
    expect(last.data.message).toBe('Model built; constant schedule from lr 0.002 over the 100 unspent epochs.');
  });

  it('a dropout change builds a fresh one, over the unspent budget', async () => {
    const { last } = await play('easy_mnist', [configure(), run(4), configure({ dropout: 0.2, lr_schedule: 'cosine' })]);
    expect(last.data.message).toBe('Dropout changed: fresh model built; cosine schedule from lr 0.001 over the 96 unspent epochs.');
  });

  it('any other change applies to the model as it is', async () => {
    const { last } = await play('easy_mnist', [configure(), run(4), configure({ lr_schedule: 'step' })]);
    expect(last.data.message).toBe('Configuration applied; step schedule from lr 0.001 over the 96 unspent epochs.');
  });
});

describe('run_epochs says what it trained', () => {
  it('one epoch, singular', async () => {
    const { last } = await play('easy_mnist', [configure(), run(1)]);
    expect(last.data.message).toBe('Trained 1 epoch.');
  });

  it('several epochs, plural', async () => {
    const { last } = await play('easy_mnist', [configure(), run(3)]);
    expect(last.data.message).toBe('Trained 3 epochs.');
  });

  it('a request above the per-call limit says it was clamped', async () => {
    const { last } = await play('easy_mnist', [configure(), run(50)]);
    expect(last.data.message).toBe('Trained 20 epochs (asked for 50, clamped to 20).');
  });

  it('a request above the unspent budget says it was clamped to the budget', async () => {
    const { last } = await play('hard_cifar', [configure(), run(20), run(20), run(15), run(8)]);
    expect(last.data.message).toBe('Trained 5 epochs (asked for 8, clamped to 5).');
  });

  it('a request of exactly the unspent budget is not called clamped', async () => {
    const { last } = await play('hard_cifar', [configure(), run(20), run(20), run(20)]);
    expect(last.data.message).toBe('Trained 20 epochs.');
  });

  it('a spent budget trains nothing and takes no time', async () => {
    const { last } = await play('hard_cifar', [configure(), run(20), run(20), run(20), run(1)]);
    expect(last.data.message).toBe('The epoch budget is spent; nothing was trained.');
    expect(last.data).toMatchObject({ epochs_just_trained: 0, epoch_time_seconds: 0 });
  });

  it('the diverging epoch is named, with the clamping', async () => {
    const { last } = await play('easy_mnist', [configure({ learning_rate: 2 }), run(30)]);
    expect(last.data.message).toBe(
      'Training diverged in epoch 1 of this call (asked for 30, clamped to 20): that epoch is not recorded and this model trains no more.',
    );
  });

  it('a diverged model says it trains no more until dropout changes, and takes no time', async () => {
    const { last } = await play('easy_mnist', [configure({ learning_rate: 2 }), run(2), run(2)]);
    expect(last.data.message).toBe(
      'Training has diverged; nothing was trained. Only a configure_training call that changes dropout builds a fresh model.',
    );
    expect(last.data).toMatchObject({ epochs_just_trained: 0, epoch_time_seconds: 0 });
  });
});

describe('the other tools say what they did', () => {
  it('adjust_learning_rate names the next learning rate and the schedule', async () => {
    const { last } = await play('easy_mnist', [configure({ lr_schedule: 'cosine' }), { tool: 'adjust_learning_rate', arguments: { new_lr: 0.01 } }]);
    expect(last.data.message).toBe('The next epoch trains at lr 0.01; the cosine schedule continues from there.');
  });

  it('toggle_augmentation on names the strength; off says off', async () => {
    const { results } = await play('easy_mnist', [
      configure(),
      { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3 } },
      { tool: 'toggle_augmentation', arguments: { enabled: false } },
    ]);
    expect(results[1].data.message).toBe('Augmentation on at strength 0.3.');
    expect(results[1].data).toMatchObject({ augmentation: true, augmentation_strength: 0.3 });
    expect(results[2].data.message).toBe('Augmentation off.');
    expect(results[2].data).toMatchObject({ augmentation: false });
  });

  it('get_training_status before and after configuring', async () => {
    const { results } = await play('easy_mnist', [status, configure({ learning_rate: 0.004 }), status]);
    expect(results[0].data.message).toBe('Not configured yet: call configure_training.');
    expect(results[0].data).toMatchObject({ config: null, learning_rate_next_epoch: null });
    expect(results[2].data.message).toBe('Current status.');
    expect(results[2].data).toMatchObject({ config: { learning_rate: 0.004 }, learning_rate_next_epoch: 0.004 });
  });

  it('submit_model names the score', async () => {
    const { last } = await play('easy_mnist', [submitCall]);
    expect(last.data.message).toBe('Submitted. Score 0.0001.');
  });

  it('the 15th step adds the auto-submission and its score to the tool message', async () => {
    const { last } = await play('easy_mnist', Array.from({ length: 15 }, () => status));
    expect(last.data.message).toBe('Not configured yet: call configure_training. Step limit reached: the episode was auto-submitted (score 0.0001).');
    expect(last.data).toMatchObject({ auto_submitted: true, grade: last.grade });
  });

  it('a step that does not end the episode carries no grade or auto-submission', async () => {
    const { last } = await play('easy_mnist', [status]);
    expect(last.data).not.toHaveProperty('grade');
    expect(last.data).not.toHaveProperty('auto_submitted');
    expect(last.data).not.toHaveProperty('error');
  });
});

describe('refusals say why', () => {
  it('a tool needing a configuration names itself', async () => {
    const { results } = await play('easy_mnist', [
      run(1),
      { tool: 'adjust_learning_rate', arguments: { new_lr: 0.1 } },
      { tool: 'toggle_augmentation', arguments: { enabled: true } },
    ]);
    expect(results.map((r) => r.error!.message)).toEqual([
      'run_epochs needs a configuration first: call configure_training.',
      'adjust_learning_rate needs a configuration first: call configure_training.',
      'toggle_augmentation needs a configuration first: call configure_training.',
    ]);
    expect(results.map((r) => r.data.message)).toEqual(results.map((r) => r.error!.message));
  });

  it('a call after the end names the status', async () => {
    const { record } = await play('easy_mnist', [submitCall]);
    const r = await executeStep(record, status, FormulaTrainer.fresh({ taskId: 'easy_mnist', seed: 42 }));
    expect(r.error).toEqual({ code: 'episode_over', message: 'The episode is over (submitted); no tool can be called any more.' });
    expect(r.data.message).toBe(r.error!.message);
    expect(r.tool).toBe('get_training_status');
    expect(r.grade).toBeNull();
    expect(r.reward_breakdown).toEqual({ progress: 0, convergence: 0, divergence: 0, overfitting: 0, wasted_compute: 0, submission: 0, total: 0 });
  });

  it('auto-submitting an ended episode names its status', async () => {
    const { record } = await play('easy_mnist', [submitCall]);
    expect(refusal(() => autoSubmitEpisode(record))).toEqual({
      code: 'episode_over',
      message: 'The episode is over (submitted); it cannot be auto-submitted.',
    });
  });

  it('a bad seed names the field, the range and the value given', () => {
    expect(refusal(() => createEpisode('easy_mnist', -1))).toEqual({
      code: 'invalid_arguments',
      field: 'seed',
      message: `seed must be an integer from 0 to ${SEED_MAX}, got -1.`,
    });
  });

  it('a bad agent label names the field path and what a label is', () => {
    const info = refusal(() => createEpisode('easy_mnist', undefined, { policy: '' }));
    expect(info).toMatchObject({ code: 'invalid_arguments', field: 'agent.policy' });
    expect(info.message).toMatch(/^agent\.policy: .+\. An agent label is \{policy \(1-64 chars\), model\?, version\?\} without control characters\.$/);
  });

  it('an agent label is kept as given and left out when there is none', () => {
    expect(createEpisode('easy_mnist', 7, { policy: 'p', model: 'm' }).agent).toEqual({ policy: 'p', model: 'm' });
    expect(createEpisode('easy_mnist', 7)).not.toHaveProperty('agent');
  });
});
