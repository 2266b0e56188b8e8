import { z } from 'zod';
import { CoreError } from '../core-error';
import { easyMnist } from './easy-mnist';
import { hardCifar } from './hard-cifar';
import { mediumFashion } from './medium-fashion';
import type { TaskDefinition, TaskId } from './task-definition';
import type { TaskModule } from './task-module';

/**
 * The tasks the environment offers, in listing order. A new task is its own module in this
 * folder plus one line here; only a new dataset or model kind reaches further (its name in
 * dataset-name.ts or model-kind.ts, then the maps the compiler points to: the datasets
 * catalogue and reader, the training layer's architectures and normalisation).
 */
const BUILT_IN: readonly TaskModule[] = [easyMnist, mediumFashion, hardCifar];

/** The task of a reset that names none, as in the reference environment. */
const DEFAULT_TASK = easyMnist;

const modules: TaskModule[] = [...BUILT_IN];

export function defaultTaskId(): TaskId {
  return DEFAULT_TASK.definition.task_id;
}

/** Adds a task (tests, extensions); returns a function that removes it again. */
export function registerTask(module: TaskModule): () => void {
  const id = module.definition.task_id;
  if (findTaskModule(id)) throw new Error(`task ${JSON.stringify(id)} is already registered`);
  modules.push(module);
  return () => {
    const index = modules.indexOf(module);
    // Stryker disable next-line EqualityOperator: index 0 holds a built-in task, which registerTask never adds, so > 0 behaves as >= 0
    if (index >= 0) modules.splice(index, 1);
  };
}

export function findTaskModule(id: string): TaskModule | null {
  return modules.find((m) => m.definition.task_id === id) ?? null;
}

/** The module of this task; an unknown id is an error that lists the valid ones. */
export function getTaskModule(id: string): TaskModule {
  const module = findTaskModule(id);
  if (!module) {
    throw new CoreError('unknown_task', `Unknown task_id ${JSON.stringify(id)}; valid task ids: ${taskIds().join(', ')}.`, {
      field: 'task_id',
      allowed: [...taskIds()],
    });
  }
  return module;
}

/** The task with this id; an unknown id is an error that lists the valid ones. */
export function getTask(id: string): TaskDefinition {
  return getTaskModule(id).definition;
}

/** Every registered task's module, in listing order. */
export function listTaskModules(): readonly TaskModule[] {
  return [...modules];
}

export function listTasks(): readonly TaskDefinition[] {
  return modules.map((m) => m.definition);
}

export function taskIds(): readonly TaskId[] {
  return modules.map((m) => m.definition.task_id);
}

/** "easy_mnist, medium_fashion or hard_cifar", for help texts and descriptions. */
export function taskIdsInWords(): string {
  const ids = taskIds();
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: the three built-in tasks are always registered, so the one-id branch is unreachable
  return ids.length <= 1 ? ids.join('') : `${ids.slice(0, -1).join(', ')} or ${ids[ids.length - 1]}`;
}

export function isTaskId(id: unknown): id is TaskId {
  // Stryker disable next-line ConditionalExpression: findTaskModule compares with ===, so no non-string matches; the typeof is for the type
  return typeof id === 'string' && findTaskModule(id) !== null;
}

/** A task id field: any id the registry knows when the value is parsed. */
export const taskIdSchema = z.string().refine(isTaskId, { error: (issue) => `Unknown task_id ${JSON.stringify(issue.input)}; valid task ids: ${taskIds().join(', ')}` });
