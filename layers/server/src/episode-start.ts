import { buildObservation, getTask, type Observation, type TaskDefinition } from '../../core/src';
import type { EpisodeView } from '../../episodes/src';

/** What a caller learns when an episode starts: its id, the task, and the observation before any step. */
export interface EpisodeStart {
  episode_id: string;
  task_id: string;
  seed: number;
  max_steps: number;
  task: TaskDefinition;
  observation: Observation;
}

export function episodeStart(view: EpisodeView): EpisodeStart {
  return {
    episode_id: view.episode_id,
    task_id: view.task_id,
    seed: view.seed,
    max_steps: view.record.max_steps,
    task: getTask(view.task_id),
    observation: buildObservation(view.record),
  };
}

/** The OpenEnv State of an episode: episode_id and step_count, plus our extra fields (State allows extras). */
export function episodeState(view: EpisodeView): Record<string, unknown> {
  return {
    episode_id: view.episode_id,
    step_count: view.step_count,
    task_id: view.task_id,
    seed: view.seed,
    status: view.status,
    done: view.status !== 'active',
    max_steps: view.record.max_steps,
    total_reward: view.record.total_reward,
    best_val_accuracy: view.best_val_accuracy,
    score: view.score,
  };
}

export const NO_EPISODE_STATE = { episode_id: null, step_count: 0 } as const;
