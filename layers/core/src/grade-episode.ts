import type { Grade, GradeInput } from './grading';
import { getTaskModule } from './tasks/registry';

/** The grade of the input's task, by that task's grader. */
export function gradeEpisode(input: GradeInput): Grade {
  const { grader, definition } = getTaskModule(input.task_id);
  return grader.grade(input, definition);
}
