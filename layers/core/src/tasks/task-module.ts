import type { Grade, GradeInput } from '../grading';
import type { GradeDetailLabel, ScoreComponent } from '../score-components';
import type { TrainingConfig } from '../training-config';
import type { TaskDefinition, TaskId } from './task-definition';

/** The task numbers a grading explanation may quote (an agent that reached a server may know only these). */
export type GradingNumbers = Pick<TaskDefinition, 'min_score_accuracy' | 'max_score_accuracy' | 'max_epochs'>;

export interface TaskGrader {
  /** A deterministic score in [0.0001, 0.9999] and its breakdown (the details). */
  grade(input: GradeInput, task: TaskDefinition): Grade;
  /** The weighted sub-scores among the details whose sum is the score, as reports show them. */
  components: readonly ScoreComponent[];
  /** The other details: the measured quantities the sub-scores come from. */
  inputs: readonly GradeDetailLabel[];
  /** The score's formula in one line, as reports show it. */
  formula: string;
  /** The grading rule in words, for an agent's prompt. */
  explain(task: GradingNumbers): string;
}

export interface TaskRewardRules {
  /** Steps that leave more than 10 epochs trained after the best one are charged (the grade counts them too). */
  penalise_wasted_epochs: boolean;
}

/**
 * How the baseline policy plays a task once configured (the policy implements each plan):
 * use_whole_budget: the grade is the best accuracy alone; guard_the_gap: the grade charges
 * the last train/val gap; stop_after_best: the grade charges epochs after the best one;
 * train_in_chunks: no task-specific plan.
 */
export type BaselinePlan = 'use_whole_budget' | 'guard_the_gap' | 'stop_after_best' | 'train_in_chunks';

export type BaselineConfig = Partial<TrainingConfig> & { learning_rate: number; dropout: number };

export interface BaselineHints {
  plan: BaselinePlan;
  /** The configuration the baseline starts with. */
  first_config: BaselineConfig;
  /**
   * The grade the baseline agent (`ml-trainer agent --policy baseline`) was measured to reach
   * on this task; the batch leaderboard draws it for reference (BASELINE_SCORES overrides it).
   * null: not measured, the leaderboard shows none.
   */
  measured_score: number | null;
}

/** What the cloud deployment expects of a task before it has measured anything itself. */
export interface TaskEstimates {
  /**
   * Estimated wall-clock seconds of one epoch in the training Lambda at its default memory and
   * threads (the cost model's pick: its measured epoch with a margin; a test in
   * test/cloud/cost-model.test.ts keeps the estimate above the modelled time). The api
   * Lambda routes a step sync or async by it until the episode has measured its own epochs
   * (layers/cloud/src/step-estimate.ts); STEP_SECONDS_PER_EPOCH overrides it.
   */
  lambda_seconds_per_epoch: number;
}

/** Everything the system knows about one task; the task registry lists them. */
export interface TaskModule<Id extends TaskId = TaskId> {
  definition: TaskDefinition<Id>;
  grader: TaskGrader;
  rewards: TaskRewardRules;
  baseline: BaselineHints;
  estimates: TaskEstimates;
}
