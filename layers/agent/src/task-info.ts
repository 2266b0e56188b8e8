import { getTask, isTaskId, type TaskDefinition } from '../../core/src';
import type { TaskInfo } from './environment';

export function taskInfoOf(task: TaskDefinition): TaskInfo {
  return {
    task_id: task.task_id,
    name: task.name,
    description: task.description,
    difficulty: task.difficulty,
    max_epochs: task.max_epochs,
    target_value: task.target_value,
    min_score_accuracy: task.min_score_accuracy,
    max_score_accuracy: task.max_score_accuracy,
  };
}

/** The catalogue entry of a task id, or null for a task this client does not know. */
export function knownTaskInfo(taskId: string): TaskInfo | null {
  return isTaskId(taskId) ? taskInfoOf(getTask(taskId)) : null;
}
