// The task registry and the grading texts agents read, pinned where mutation testing
// (npm run mutation -- --area core) found them unobserved by the core's own tests.
import {
  CoreError,
  DATASET_NAMES,
  GENERALISATION_GAP_LIMIT,
  STABILITY_THRESHOLD,
  defaultTaskId,
  getTask,
  getTaskModule,
  isDatasetName,
  isTaskId,
  listTaskModules,
  listTasks,
  registerTask,
  taskIds,
  taskIdSchema,
  taskIdsInWords,
  type TaskModule,
} from '../../layers/core/src';

const BUILT_IN = ['easy_mnist', 'medium_fashion', 'hard_cifar'];

/** A copy of easy_mnist under another id: registering it must change every listing, and removing it must undo that. */
function extraTask(id: string): TaskModule {
  const easy = getTaskModule('easy_mnist');
  return { ...easy, definition: { ...easy.definition, task_id: id } };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('the task registry', () => {
  it('lists the built-in tasks in order, easy_mnist by default', () => {
    expect(taskIds()).toEqual(BUILT_IN);
    expect(listTasks().map((t) => t.task_id)).toEqual(BUILT_IN);
    expect(listTaskModules().map((m) => m.definition)).toEqual(listTasks());
    expect(defaultTaskId()).toBe('easy_mnist');
    expect(taskIdsInWords()).toBe('easy_mnist, medium_fashion or hard_cifar');
  });

  it('hands out a copy of its module list, which a caller cannot change', () => {
    const listed = listTaskModules() as TaskModule[];
    listed.pop();
    expect(taskIds()).toEqual(BUILT_IN);
  });

  it('adds a registered task at the end and removes it again; removing twice changes nothing', () => {
    const module = extraTask('extra_task');
    const unregister = registerTask(module);
    try {
      expect(taskIds()).toEqual([...BUILT_IN, 'extra_task']);
      expect(getTaskModule('extra_task')).toBe(module);
      expect(isTaskId('extra_task')).toBe(true);
      expect(taskIdsInWords()).toBe('easy_mnist, medium_fashion, hard_cifar or extra_task');
      expect(() => registerTask(extraTask('extra_task'))).toThrow('task "extra_task" is already registered');
    } finally {
      unregister();
    }
    expect(taskIds()).toEqual(BUILT_IN);
    unregister();
    expect(taskIds()).toEqual(BUILT_IN);
  });

  it('removes the one it registered when several are', () => {
    const removeA = registerTask(extraTask('extra_a'));
    const removeB = registerTask(extraTask('extra_b'));
    removeA();
    expect(taskIds()).toEqual([...BUILT_IN, 'extra_b']);
    removeB();
    expect(taskIds()).toEqual(BUILT_IN);
  });

  it('names an unknown task, the field and the valid ids', () => {
    const error = thrown(() => getTask('mnist_hard'));
    expect(error).toBeInstanceOf(CoreError);
    expect((error as CoreError).toInfo()).toEqual({
      code: 'unknown_task',
      message: 'Unknown task_id "mnist_hard"; valid task ids: easy_mnist, medium_fashion, hard_cifar.',
      field: 'task_id',
      allowed: BUILT_IN,
    });
  });

  it('knows task ids only as strings', () => {
    expect(isTaskId('hard_cifar')).toBe(true);
    expect(isTaskId('hard')).toBe(false);
    expect(isTaskId(42)).toBe(false);
    expect(isTaskId(undefined)).toBe(false);
  });

  it('validates a task id field with a message that lists the valid ids', () => {
    expect(taskIdSchema.parse('medium_fashion')).toBe('medium_fashion');
    const parsed = taskIdSchema.safeParse('cifar');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].message).toBe('Unknown task_id "cifar"; valid task ids: easy_mnist, medium_fashion, hard_cifar');
  });
});

describe('dataset names', () => {
  it.each(DATASET_NAMES.map((name) => [name]))('%s is one', (name) => {
    expect(isDatasetName(name)).toBe(true);
  });

  it.each([['imagenet'], [''], [7], [null], [['mnist']]])('%p is not', (value) => {
    expect(isDatasetName(value)).toBe(false);
  });
});

describe("each task's grading rule in words, as an agent's prompt quotes it", () => {
  const numbers = { min_score_accuracy: 0.5, max_score_accuracy: 0.75, max_epochs: 30 };
  const clamp = 'acc_score = clamp((best_val_accuracy - 0.5) / (0.75 - 0.5)), clamp to [0.0001, 0.9999]';

  it('easy_mnist: the best validation accuracy alone', () => {
    expect(getTaskModule('easy_mnist').grader.explain(numbers)).toBe(`score = ${clamp}. Only the best validation accuracy counts.`);
  });

  it('medium_fashion: accuracy and the last train/val gap', () => {
    const { grader } = getTaskModule('medium_fashion');
    const [accuracy, generalisation] = grader.components.map((c) => c.weight);
    expect(grader.explain(numbers)).toBe(
      `score = ${accuracy} * acc_score + ${generalisation} * clamp(1 - gap / ${GENERALISATION_GAP_LIMIT}), where ${clamp} and gap = ` +
        'train_accuracy - val_accuracy of the LAST trained epoch at submission (it cannot be undone by later steps; training longer usually widens it).',
    );
  });

  it('hard_cifar: accuracy, wasted epochs over the budget and val-loss variance', () => {
    const { grader } = getTaskModule('hard_cifar');
    const [accuracy, efficiency, stability] = grader.components.map((c) => c.weight);
    expect(grader.explain(numbers)).toBe(
      `score = ${accuracy} * acc_score + ${efficiency} * clamp(1 - wasted / 30) + ${stability} * clamp(1 - variance / ${STABILITY_THRESHOLD}), ` +
        `where ${clamp}, wasted = current_epoch - best_val_epoch at submission, and variance = population variance of the last 10 val losses.`,
    );
  });
});
