import type { ModelProgress } from './episode-record';
import { overfittingGap, wastedEpochs } from './grading';
import { pythonRound } from './python-round';
import { getTaskModule } from './tasks/registry';
import type { TaskId } from './tasks/task-definition';

const PROGRESS_WEIGHT = 0.3;
const CONVERGENCE_BONUS = 0.05;
const DIVERGENCE_PENALTY = -0.2;
const OVERFITTING_GAP_ALLOWANCE = 0.08;
const OVERFITTING_WEIGHT = 0.05;
const WASTED_EPOCHS_ALLOWANCE = 10;
const WASTED_COMPUTE_PENALTY = -0.02;

/** What a step changed, as the reward terms need it. */
export interface StepOutcome {
  taskId: TaskId;
  before: ModelProgress;
  after: ModelProgress;
  /** Epochs recorded by this step (a diverged epoch is not recorded). */
  epochsRecorded: number;
  divergedThisStep: boolean;
  /** The final grade's score when this step submitted or auto-submitted. */
  submissionScore: number | null;
}

export interface RewardBreakdown {
  progress: number;
  convergence: number;
  divergence: number;
  overfitting: number;
  wasted_compute: number;
  submission: number;
  total: number;
}

function lastValLoss(progress: ModelProgress): number | null {
  const h = progress.val_loss_history;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: on an empty history h[-1] is undefined, which convergenceTerm treats as null (a loss is never below undefined)
  return h.length > 0 ? h[h.length - 1] : null;
}

function progressTerm(o: StepOutcome): number {
  const rise = o.after.best_val_accuracy - o.before.best_val_accuracy;
  // Stryker disable next-line EqualityOperator: a rise of exactly 0 pays 0.3 × 0 = 0 either way
  return rise > 0 ? PROGRESS_WEIGHT * rise : 0;
}

/** Paid only by steps that trained, and only against a val loss the same model had before the step. */
function convergenceTerm(o: StepOutcome): number {
  // Stryker disable next-line ConditionalExpression: a step that recorded no epoch leaves the same model's val losses as they were, so "now < previous" cannot hold without the first check
  if (o.epochsRecorded === 0 || o.after.generation !== o.before.generation) return 0;
  const previous = lastValLoss(o.before);
  const now = lastValLoss(o.after);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: a loss compared with null compares with 0, and no loss is below 0; now is never null after a step that recorded an epoch
  return previous !== null && now !== null && now < previous ? CONVERGENCE_BONUS : 0;
}

function overfittingTerm(o: StepOutcome): number {
  if (o.epochsRecorded === 0) return 0;
  const gap = overfittingGap(o.after);
  return gap > OVERFITTING_GAP_ALLOWANCE ? -OVERFITTING_WEIGHT * (gap - OVERFITTING_GAP_ALLOWANCE) : 0;
}

function wastedComputeTerm(o: StepOutcome): number {
  if (!getTaskModule(o.taskId).rewards.penalise_wasted_epochs || o.epochsRecorded === 0) return 0;
  return wastedEpochs(o.after) > WASTED_EPOCHS_ALLOWANCE ? WASTED_COMPUTE_PENALTY : 0;
}

/** The per-step reward, term by term; the total is rounded to 4 decimals. */
export function stepReward(o: StepOutcome): RewardBreakdown {
  const terms = {
    progress: progressTerm(o),
    convergence: convergenceTerm(o),
    divergence: o.divergedThisStep ? DIVERGENCE_PENALTY : 0,
    overfitting: overfittingTerm(o),
    wasted_compute: wastedComputeTerm(o),
    submission: o.submissionScore ?? 0,
  };
  const sum =
    terms.progress + terms.convergence + terms.divergence + terms.overfitting + terms.wasted_compute + terms.submission;
  return { ...terms, total: pythonRound(sum, 4) };
}
