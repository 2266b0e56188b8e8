import {
  accuracyScore,
  clampScore,
  createEpisode,
  defaultTaskId,
  getTask,
  gradeDetail,
  gradeComponent,
  gradeEpisode,
  gradeInputOf,
  isTaskId,
  listTasks,
  parseEpisodeRecord,
  pythonRound,
  registerTask,
  taskIds,
  weightedScore,
  type EpisodeRecord,
  type GradeInput,
  type TaskDefinition,
  type TaskModule,
  trainingConfigSchema,
} from '../../layers/core/src';
import { baselinePolicy, InProcessEnvironment, playEpisode, type EpisodeSession } from '../../layers/agent/src';
import { baselineScoresFromEnv, DEFAULT_PRICES, DEFAULT_STEP_ROUTING, stepRoutingFromEnv } from '../../layers/cloud/src/config';
import { buildReport, leaderboardInputOf } from '../../layers/cloud/src/leaderboard';
import { estimateStep } from '../../layers/cloud/src/step-estimate';
import { buildEpisodeReport, renderEpisodeReportHtml } from '../../layers/reports/src';
import { serverContext } from '../../layers/server/src/server-context';
import type { StoredEpisode } from '../../layers/storage/src';
import { formulaTrainerFactory } from '../../layers/testing/src';

/**
 * A fourth task, defined here and nowhere else: registering its module is all it takes for
 * the episode, the grader, the baseline policy and the report to know it. (Its dataset and
 * model kind are real names, which the formula trainer ignores.)
 */
const ACCURACY = gradeComponent('accuracy_score', 0.7);
const SPEED = { key: 'speed_score', label: 'Speed score', weight: 0.3 };

function gradeSprint(input: GradeInput, task: TaskDefinition) {
  const acc = accuracyScore(input.best_val_accuracy, task);
  const speed = clampScore(1 - input.current_epoch / task.max_epochs);
  return {
    score: pythonRound(weightedScore([ACCURACY, SPEED], { accuracy_score: acc, speed_score: speed }), 4),
    details: {
      val_accuracy: pythonRound(input.best_val_accuracy, 4),
      model_epochs: input.current_epoch,
      accuracy_score: pythonRound(acc, 4),
      speed_score: pythonRound(speed, 4),
    },
  };
}

const digitSprint: TaskModule = {
  definition: {
    task_id: 'digit_sprint',
    name: 'Digit Sprint',
    description: 'Reach a decent MNIST accuracy in as few epochs as possible.',
    difficulty: 'easy',
    model_type: 'simple_mlp',
    dataset_name: 'mnist',
    max_epochs: 30,
    seed: 7,
    target_metric: 'val_accuracy',
    target_value: 0.8,
    min_score_accuracy: 0.5,
    max_score_accuracy: 0.9,
    subset: { official_train_size: 60000, train: 1000, val: 500 },
  },
  grader: {
    grade: gradeSprint,
    components: [ACCURACY, SPEED],
    inputs: [gradeDetail('val_accuracy'), { key: 'model_epochs', label: 'Epochs the final model trained' }],
    formula: 'score = 0.7 × accuracy score + 0.3 × speed score',
    explain: (task) => `score = 0.7 * acc_score + 0.3 * clamp(1 - epochs / ${task.max_epochs}).`,
  },
  rewards: { penalise_wasted_epochs: false },
  baseline: { plan: 'train_in_chunks', first_config: { optimizer: 'adam', learning_rate: 0.001, dropout: 0.1 }, measured_score: 0.4242 },
  estimates: { lambda_seconds_per_epoch: 0.75 },
};

/** A stored digit_sprint episode, configured and not yet trained. */
function storedSprint(): StoredEpisode {
  const record = createEpisode('digit_sprint');
  record.config = trainingConfigSchema.parse({});
  record.schedule = { kind: 'constant', base_lr: 0.001, total_epochs: 30, warmup_epochs: 0, position: 0, anchor: null };
  return {
    tenant: 't',
    episode_id: 'e',
    version: 0,
    created_at: '2030-01-01T00:00:00.000Z',
    updated_at: '2030-01-01T00:00:00.000Z',
    record,
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: 'c',
    ended_at: null,
  };
}

let unregister: () => void;
beforeAll(() => {
  unregister = registerTask(digitSprint);
});
afterAll(() => unregister());

describe('a fourth task registered from its own module', () => {
  it('is listed, looked up and validated like the built-in ones', () => {
    expect(taskIds()).toEqual(['easy_mnist', 'medium_fashion', 'hard_cifar', 'digit_sprint']);
    expect(listTasks().at(-1)).toBe(digitSprint.definition);
    expect(getTask('digit_sprint').name).toBe('Digit Sprint');
    expect(isTaskId('digit_sprint')).toBe(true);
    const record = createEpisode('digit_sprint');
    expect(record.seed).toBe(7);
    expect(parseEpisodeRecord(JSON.parse(JSON.stringify(record))).task_id).toBe('digit_sprint');
  });

  it('cannot be registered twice', () => {
    expect(() => registerTask(digitSprint)).toThrow(/already registered/);
  });

  it('is played by the baseline, graded by its own grader and rendered in its report', async () => {
    let session: EpisodeSession | null = null;
    const result = await playEpisode({
      environment: new InProcessEnvironment(formulaTrainerFactory),
      policy: baselinePolicy(),
      taskId: 'digit_sprint',
      onStart: (s) => {
        session = s;
      },
    });
    expect(result.status).toBe('submitted');
    expect(result.history[0].call).toEqual({ tool: 'configure_training', arguments: digitSprint.baseline.first_config });
    expect(result.history.every((s) => s.outcome.error === null)).toBe(true);

    const record = (session as unknown as { currentRecord: EpisodeRecord }).currentRecord;
    const grade = gradeEpisode(gradeInputOf(record));
    expect(result.grade).toEqual(grade);
    expect(Object.keys(grade.details)).toEqual(['val_accuracy', 'model_epochs', 'accuracy_score', 'speed_score']);
    expect(grade.score).toBeGreaterThan(0.0001);

    const report = buildEpisodeReport({ record });
    expect(report.task).toMatchObject({ task_id: 'digit_sprint', name: 'Digit Sprint', model_type: 'simple_mlp', epoch_budget: 30 });
    expect(report.grade.formula).toBe(digitSprint.grader.formula);
    expect(report.grade.components.map((c) => [c.key, c.label, c.weight])).toEqual([
      ['accuracy_score', 'Accuracy score', 0.7],
      ['speed_score', 'Speed score', 0.3],
    ]);
    expect(report.grade.inputs.map((i) => i.label)).toEqual(['Best validation accuracy', 'Epochs the final model trained']);

    const page = renderEpisodeReportHtml(report);
    for (const text of ['Digit Sprint', 'Speed score', 'Accuracy score', 'Epochs the final model trained', 'score = 0.7 × accuracy score + 0.3 × speed score']) {
      expect(page).toContain(text);
    }
  });

  it('brings its own cloud facts: the step estimate before any epoch and the leaderboard baseline', () => {
    const run = { tool: 'run_epochs', arguments: { num_epochs: 4 } };
    const expected = { epochs: 4, secondsPerEpoch: 0.75, basis: 'configured' };
    // Settings read before the task was registered, and after.
    expect(estimateStep(storedSprint(), run, DEFAULT_STEP_ROUTING)).toMatchObject(expected);
    expect(stepRoutingFromEnv({}).secondsPerEpoch.digit_sprint).toBe(0.75);
    expect(estimateStep(storedSprint(), run, stepRoutingFromEnv({}))).toMatchObject(expected);
    expect(estimateStep(storedSprint(), run, stepRoutingFromEnv({ STEP_SECONDS_PER_EPOCH: 'digit_sprint=2' })).secondsPerEpoch).toBe(2);

    const baselines = baselineScoresFromEnv({});
    expect(baselines.digit_sprint).toBe(0.4242);
    const report = buildReport({
      run_id: 'r',
      started_at: null,
      since: null,
      until: null,
      truncated: false,
      generated_at: '2031-01-01T00:00:00.000Z',
      prices: DEFAULT_PRICES,
      baselines,
      entries: [],
    });
    expect(leaderboardInputOf(report).tasks.find((t) => t.task_id === 'digit_sprint')?.baseline).toEqual({ score: 0.4242, label: 'baseline agent' });
  });

  it('leaves the default task of a reset as the registry declares it', () => {
    expect(defaultTaskId()).toBe('easy_mnist');
    expect(serverContext({ service: {} as never }).defaultTaskId).toBe(defaultTaskId());
  });

  it('is gone again once unregistered', () => {
    const remove = registerTask({ ...digitSprint, definition: { ...digitSprint.definition, task_id: 'short_lived' } });
    expect(isTaskId('short_lived')).toBe(true);
    remove();
    expect(isTaskId('short_lived')).toBe(false);
    expect(() => getTask('short_lived')).toThrow(/Unknown task_id "short_lived"; valid task ids: easy_mnist, medium_fashion, hard_cifar, digit_sprint/);
  });
});
