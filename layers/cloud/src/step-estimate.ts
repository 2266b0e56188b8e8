import { epochsThisCallTrains, getTaskModule, type ToolCall } from '../../core/src';
import type { StoredEpisode } from '../../storage/src';
import type { StepRouting } from './config';

export interface StepEstimate {
  /** Expected wall-clock time of the whole training invocation. */
  ms: number;
  /** Epochs the call will train (after the core's clamping). */
  epochs: number;
  secondsPerEpoch: number;
  /** Where secondsPerEpoch came from: this episode's own epochs, or the per-task setting. */
  basis: 'measured' | 'configured';
}

/** A measured rate is scaled by this: batch size and augmentation may change between calls. */
const MEASURED_SAFETY = 1.25;

/**
 * How long executing this call on this episode should take: the fixed overhead of a step
 * (restore, checkpoint, commit; a cold start), plus for run_epochs the epochs it will
 * actually train (the core's epochsThisCallTrains: 1..20, the unspent budget, nothing without
 * a configuration or after divergence) times seconds per epoch (this episode's measured
 * rate once it has trained, else the task's configured rate), plus the dataset load when
 * the episode has not trained yet.
 */
export function estimateStep(episode: StoredEpisode, call: ToolCall, routing: StepRouting): StepEstimate {
  const record = episode.record;
  const measured = episode.usage.epochs_trained > 0 ? episode.usage.training_seconds / episode.usage.epochs_trained : null;
  const secondsPerEpoch = measured !== null ? measured * MEASURED_SAFETY : configuredSecondsPerEpoch(record.task_id, routing);
  const basis = measured !== null ? 'measured' : 'configured';
  const epochs = epochsThisCallTrains(record, call);
  const dataLoad = epochs > 0 && episode.usage.epochs_trained === 0 ? routing.dataLoadMs : 0;
  return { ms: Math.round(routing.overheadMs + dataLoad + epochs * secondsPerEpoch * 1000), epochs, secondsPerEpoch, basis };
}

/** The setting for this task, else (a task registered after the settings were read) its module's estimate. */
function configuredSecondsPerEpoch(taskId: string, routing: StepRouting): number {
  return routing.secondsPerEpoch[taskId] ?? getTaskModule(taskId).estimates.lambda_seconds_per_epoch;
}
