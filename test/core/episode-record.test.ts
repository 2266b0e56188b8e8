// Reading a stored episode record (parseEpisodeRecord): what no sequence of steps can produce
// is refused with a message naming the field, each rule at its boundary, so a damaged state
// file or table item never reaches executeStep.
import { CoreError, createEpisode, EPISODE_SCHEMA_VERSION, freshModelProgress, MAX_STEPS, parseEpisodeRecord, type EpisodeRecord } from '../../layers/core/src';
import { configure, play, run, submitCall } from './episode-helpers';

/** The CoreError message parseEpisodeRecord gives for this value, or null when it accepts it. */
function refusal(value: unknown): string | null {
  try {
    parseEpisodeRecord(JSON.parse(JSON.stringify(value)));
    return null;
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    expect(error.code).toBe('invalid_record');
    return error.message;
  }
}

let trained: EpisodeRecord;
beforeAll(async () => {
  trained = (await play('easy_mnist', [configure(), run(3), configure({ dropout: 0.2 }), run(2)])).record;
});

describe('parseEpisodeRecord', () => {
  it('reads back what the state machine wrote, a new and an ended episode too', async () => {
    expect(refusal(trained)).toBeNull();
    expect(refusal(createEpisode('hard_cifar'))).toBeNull();
    expect(refusal((await play('easy_mnist', [submitCall])).record)).toBeNull();
  });

  it('refuses another schema version, naming both', () => {
    expect(refusal({ ...trained, schema_version: 2 })).toBe(
      `Episode record has schema_version 2; this version reads schema_version ${EPISODE_SCHEMA_VERSION}.`,
    );
    expect(refusal(null)).toBe(`Episode record has schema_version undefined; this version reads schema_version ${EPISODE_SCHEMA_VERSION}.`);
  });

  it('calls a value that is not an object at all "(root)"', () => {
    // An array carrying the right schema_version passes the version check and fails at its root.
    const notAnObject = Object.assign([], { schema_version: EPISODE_SCHEMA_VERSION });
    expect(() => parseEpisodeRecord(notAnObject)).toThrow(/^Invalid episode record: \(root\): .+$/);
  });

  it('names every malformed field by its path', () => {
    expect(refusal({ ...trained, seed: -1, status: 'paused' })).toMatch(/^Invalid episode record: seed: .+; status: .+$/);
  });

  it('max_steps must be the environment limit', () => {
    expect(refusal({ ...trained, max_steps: MAX_STEPS + 1 })).toBe(`Invalid episode record: max_steps: must be ${MAX_STEPS}, got ${MAX_STEPS + 1}`);
  });

  it('step_count may reach max_steps but not pass it', async () => {
    const full = (await play('easy_mnist', Array.from({ length: MAX_STEPS }, () => run(1)))).record;
    expect(full.step_count).toBe(MAX_STEPS);
    expect(refusal(full)).toBeNull();
    const steps = [...full.steps, { ...full.steps[0], step: MAX_STEPS + 1 }];
    expect(refusal({ ...full, step_count: MAX_STEPS + 1, steps })).toBe(
      `Invalid episode record: step_count: must be at most max_steps (${MAX_STEPS}), got ${MAX_STEPS + 1}`,
    );
  });

  it('steps must hold one entry per step', () => {
    expect(refusal({ ...trained, steps: trained.steps.slice(1) })).toBe(
      `Invalid episode record: steps: must hold one entry per step (step_count 4), got 3`,
    );
  });

  it("budget_used may reach the task's budget but not pass it", () => {
    expect(refusal({ ...trained, budget_used: 100 })).toBeNull();
    expect(refusal({ ...trained, budget_used: 101 })).toBe(
      "Invalid episode record: budget_used: must be at most the task's epoch budget (100), got 101",
    );
  });

  it.each(['train_loss_history', 'val_loss_history', 'train_acc_history', 'val_acc_history', 'lr_history'] as const)(
    'model.%s must hold one value per epoch',
    (history) => {
      const model = { ...trained.model, [history]: [...trained.model[history], 0.5] };
      expect(refusal({ ...trained, model })).toBe(
        `Invalid episode record: model.${history}: must hold one value per epoch of the model (current_epoch 2), got 3`,
      );
    },
  );

  it('the model cannot have trained more epochs than the episode spent', () => {
    const m = trained.model;
    const model = { ...m, current_epoch: 5, best_val_epoch: 1, ...Object.fromEntries(['train_loss_history', 'val_loss_history', 'train_acc_history', 'val_acc_history', 'lr_history'].map((h) => [h, [0.5, 0.5, 0.5, 0.5, 0.5]])) };
    expect(refusal({ ...trained, model })).toBeNull();
    expect(refusal({ ...trained, budget_used: 4, model })).toBe('Invalid episode record: model.current_epoch: must be at most budget_used (4), got 5');
  });

  it('the best epoch may be the current one but not a later one', () => {
    expect(refusal({ ...trained, model: { ...trained.model, best_val_epoch: 2 } })).toBeNull();
    expect(refusal({ ...trained, model: { ...trained.model, best_val_epoch: 3 } })).toBe(
      'Invalid episode record: model.best_val_epoch: must be at most current_epoch (2), got 3',
    );
  });

  it('a grade exactly when the episode has ended', () => {
    const grade = { score: 0.5, details: {} };
    expect(refusal({ ...trained, grade })).toBe('Invalid episode record: grade: must be null exactly while the episode is active (status active)');
    expect(refusal({ ...trained, status: 'submitted' })).toBe(
      'Invalid episode record: grade: must be null exactly while the episode is active (status submitted)',
    );
    expect(refusal({ ...trained, status: 'submitted', grade })).toBeNull();
  });

  it('reports every impossible value at once', () => {
    const message = refusal({ ...trained, max_steps: 3, budget_used: 500, model: freshModelProgress(1) });
    expect(message).toBe(
      "Invalid episode record: max_steps: must be 15, got 3; step_count: must be at most max_steps (3), got 4; budget_used: must be at most the task's epoch budget (100), got 500",
    );
  });
});
