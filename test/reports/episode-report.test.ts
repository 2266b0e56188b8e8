import { createEpisode, gradeEpisode, gradeInputOf, type EpisodeRecord } from '../../layers/core/src';
import type { EpisodeService } from '../../layers/episodes/src/episode-service';
import { buildEpisodeReport, episodeReportFromView, type EpisodeReport } from '../../layers/reports/src';
import { startStoredService } from '../server/harness';
import { DIVERGED_SCRIPT, finalRecord, MAIN_SCRIPT, play } from './helpers';

/** Plays the calls through the stored service (dynalite + s3rver, formula trainer) and returns the report of the stored episode. */
async function storedReport(service: EpisodeService, calls: typeof MAIN_SCRIPT, taskId = 'easy_mnist'): Promise<EpisodeReport> {
  const created = await service.createEpisode({ tenant: 'local', taskId });
  for (const call of calls) await service.step({ tenant: 'local', episodeId: created.episode_id, call });
  return episodeReportFromView(await service.getEpisode('local', created.episode_id));
}

function assertFiniteJson(value: unknown): void {
  const text = JSON.stringify(value);
  expect(text).not.toMatch(/\bNaN\b|\bInfinity\b/);
  expect(JSON.parse(text)).toEqual(value);
}

describe('episode report data (JSON twin) from stored episodes', () => {
  let stored: Awaited<ReturnType<typeof startStoredService>>;
  beforeAll(async () => {
    stored = await startStoredService();
  });
  afterAll(async () => {
    await stored.close();
  });

  it('configure, run, adjust lr, augmentation, run, dropout change, run, submit: two models on one epoch axis', async () => {
    const report = await storedReport(stored.service, MAIN_SCRIPT);
    const record = (await stored.service.getEpisode('local', report.episode_id!)).record;

    expect(report.report_version).toBe(1);
    expect(report.task).toMatchObject({ task_id: 'easy_mnist', epoch_budget: 100, target_value: 0.96, score_0_at: 0.88, score_1_at: 0.975 });
    expect(report.seed).toBe(42);
    expect(report.status).toBe('submitted');
    expect(report.tenant).toBe('local');
    expect(report.version).toBe(MAIN_SCRIPT.length);
    expect(report.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    // Model 1 spent epochs 1–9 (5 + 4), model 2 (built at step 6) epochs 10–20.
    expect(report.curves).toMatchObject({ generation: 2, first_epoch: 10 });
    expect(report.curves.note).toMatch(/model 2, built at step 6/);
    expect(report.generations).toEqual([
      { generation: 1, current: false, epochs_spent: 9, epoch_range: { from: 1, to: 9 }, steps: [1, 2, 3, 4, 5] },
      { generation: 2, current: true, epochs_spent: 11, epoch_range: { from: 10, to: 20 }, steps: [6, 7, 8, 9, 10, 11] },
    ]);

    // The per-epoch series are the current model's histories, numbered over the episode.
    expect(report.epochs.map((e) => e.epoch)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(report.epochs.map((e) => e.model_epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(report.epochs.map((e) => e.val_accuracy)).toEqual(record.model.val_acc_history);
    expect(report.epochs.map((e) => e.train_loss)).toEqual(record.model.train_loss_history);
    expect(report.epochs.map((e) => e.val_loss)).toEqual(record.model.val_loss_history);
    expect(report.epochs.map((e) => e.train_accuracy)).toEqual(record.model.train_acc_history);
    expect(report.epochs.map((e) => e.lr)).toEqual(record.model.lr_history);
    expect(report.epochs.every((e) => e.generation === 2)).toBe(true);
    // The lr change of step 8 applies from episode epoch 16 (model epoch 7).
    expect(report.epochs[5]!.lr).toBe(0.001);
    expect(report.epochs[6]!.lr).toBeCloseTo(0.0008, 12);

    // Best epoch: the record's, on both axes, flagged once.
    expect(report.best).toEqual({
      epoch: 9 + record.model.best_val_epoch,
      model_epoch: record.model.best_val_epoch,
      val_accuracy: record.model.best_val_accuracy,
      val_loss: record.model.val_loss_history[record.model.best_val_epoch - 1],
    });
    expect(report.epochs.filter((e) => e.is_best).map((e) => e.model_epoch)).toEqual([record.model.best_val_epoch]);
    expect(report.summary).toMatchObject({ steps_used: 11, max_steps: 15, epochs_used: 20, epoch_budget: 100, epochs_remaining: 80, best_epoch: report.best!.epoch, diverged: false });
    expect(report.summary.total_reward).toBe(record.total_reward);

    // The timeline keeps every step, the replaced model's too.
    expect(report.timeline.map((t) => t.tool)).toEqual(MAIN_SCRIPT.map((c) => c.tool));
    expect(report.timeline.map((t) => t.earlier_model)).toEqual([true, true, true, true, true, false, false, false, false, false, false]);
    expect(report.timeline.map((t) => t.epoch_range)).toEqual([
      null, { from: 1, to: 5 }, null, null, { from: 6, to: 9 }, null, { from: 10, to: 15 }, null, { from: 16, to: 20 }, null, null,
    ]);
    expect(report.timeline[2]!.arguments).toEqual({ new_lr: 0.0005 });
    expect(report.timeline.map((t) => t.reward)).toEqual(record.steps.map((s) => s.reward));

    // Configuration changes, at the first epoch they applied to.
    expect(report.markers.map((m) => [m.step, m.kind, m.epoch, m.model_epoch, m.generation, m.label])).toEqual([
      [1, 'model_built', 1, null, 1, 'configured'],
      [3, 'learning_rate', 6, null, 1, 'lr 0.0005'],
      [4, 'augmentation', 6, null, 1, 'aug 0.4'],
      [6, 'model_rebuilt', 10, 1, 2, 'new model 2'],
      [8, 'learning_rate', 16, 7, 2, 'lr 0.0008'],
    ]);
    expect(report.markers.every((m) => m.trained_after)).toBe(true);
    expect(report.config).toEqual(record.config);

    // The grade and its breakdown.
    expect(report.grade).toMatchObject({ score: record.grade!.score, final: true, details: record.grade!.details });
    expect(report.grade.components).toEqual([{ key: 'accuracy_score', label: 'Accuracy score', value: record.grade!.details.accuracy_score, weight: 1, contribution: record.grade!.details.accuracy_score }]);
    expect(report.grade.inputs.map((i) => i.key)).toEqual(['val_accuracy']);

    // Usage as the service counted it.
    expect(report.usage).toMatchObject({ steps: 11, epochs_trained: 20 });
    expect(report.usage!.training_seconds).toBeGreaterThan(0);
    assertFiniteJson(report);
  });

  it('a diverged run: the diverged epoch is spent but not in the series, and later runs train nothing', async () => {
    const report = await storedReport(stored.service, DIVERGED_SCRIPT);
    expect(report.summary).toMatchObject({ diverged: true, epochs_used: 4, steps_used: 6 });
    expect(report.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(report.diverged).toEqual({ epoch: 4, model_epoch: 4, train_loss: null });
    expect(report.timeline.map((t) => t.epoch_range)).toEqual([null, { from: 1, to: 3 }, null, { from: 4, to: 4 }, null, null]);
    expect(report.timeline[3]!.reward).toBeLessThan(0); // the divergence penalty
    expect(report.markers.map((m) => [m.kind, m.epoch, m.label, m.trained_after])).toEqual([
      ['model_built', 1, 'configured', true],
      ['learning_rate', 4, 'lr 6', true],
    ]);
    expect(report.best?.epoch).toBe(3);
    expect(report.usage?.epochs_trained).toBe(4);
    assertFiniteJson(report);
  });

  it('hard_cifar: the breakdown has the three weighted components that sum to the score', async () => {
    const report = await storedReport(stored.service, [
      { tool: 'configure_training', arguments: { optimizer: 'adamw', learning_rate: 0.002, dropout: 0.2, lr_schedule: 'warmup_cosine', warmup_epochs: 2 } },
      { tool: 'run_epochs', arguments: { num_epochs: 8 } },
      { tool: 'submit_model', arguments: {} },
    ], 'hard_cifar');
    expect(report.grade.components.map((c) => [c.key, c.weight])).toEqual([
      ['accuracy_score', 0.5],
      ['efficiency_score', 0.3],
      ['stability_score', 0.2],
    ]);
    const sum = report.grade.components.reduce((s, c) => s + c.contribution, 0);
    expect(Math.abs(sum - report.grade.score)).toBeLessThan(1e-3);
    expect(report.grade.inputs.map((i) => i.key).sort()).toEqual(['loss_variance', 'val_accuracy', 'wasted_epochs']);
    expect(report.grade.formula).toMatch(/0\.5 × accuracy/);
  });
});

describe('episode report data from bare records', () => {
  it('an active episode gets the grade it would have if submitted now (not final)', async () => {
    const records = await play(MAIN_SCRIPT.slice(0, 2));
    const record = records[1]!;
    const report = buildEpisodeReport({ record });
    expect(report.status).toBe('active');
    expect(report.grade.final).toBe(false);
    expect(report.grade.score).toBe(gradeEpisode(gradeInputOf(record)).score);
    expect(report.episode_id).toBeNull();
    expect(report.usage).toBeNull();
    expect(report.curves).toEqual({ generation: 1, first_epoch: 1, note: null });
  });

  it('a new episode: no epoch, no best, no marker', () => {
    const report = buildEpisodeReport({ record: createEpisode('medium_fashion') });
    expect(report.epochs).toEqual([]);
    expect(report.best).toBeNull();
    expect(report.markers).toEqual([]);
    expect(report.timeline).toEqual([]);
    expect(report.generations).toEqual([]);
    expect(report.summary.best_epoch).toBeNull();
    expect(report.grade.components.map((c) => c.key)).toEqual(['accuracy_score', 'generalization_score']);
  });

  it('steps that failed are in the timeline but are no configuration change; a change not trained yet is marked so', async () => {
    const record: EpisodeRecord = await finalRecord([
      { tool: 'run_epochs', arguments: { num_epochs: 2 } }, // not configured: an error, model 0
      { tool: 'configure_training', arguments: { learning_rate: 50 } }, // out of range
      { tool: 'configure_training', arguments: {} },
      { tool: 'run_epochs', arguments: { num_epochs: 2 } },
      { tool: 'toggle_augmentation', arguments: { enabled: false } },
    ]);
    const report = buildEpisodeReport({ record });
    expect(report.timeline.map((t) => t.error?.code ?? null)).toEqual(['not_configured', 'invalid_arguments', null, null, null]);
    expect(report.timeline.map((t) => t.earlier_model)).toEqual([false, false, false, false, false]);
    expect(report.markers.map((m) => [m.step, m.kind, m.epoch, m.trained_after, m.label])).toEqual([
      [3, 'model_built', 1, true, 'configured'],
      [5, 'augmentation', 3, false, 'aug off'],
    ]);
    expect(report.markers[0]!.summary).toBe('model built (defaults)');
  });

  it('is deterministic: the same record gives the same report', async () => {
    const record = await finalRecord(MAIN_SCRIPT);
    expect(buildEpisodeReport({ record })).toEqual(buildEpisodeReport({ record: structuredClone(record) }));
  });
});
