import type { EpochProgress } from '../../../core/src';
import type { PlannedEpisode } from './eval-plan';

/** A running episode as a progress display shows it. */
export interface RunningEpisode {
  task_id: string;
  seed: number;
  /** The model epoch it trains, and the index/total of the current run_epochs call; null before its first epoch. */
  epoch: EpochProgress | null;
}

/** Where the eval stands, sent with every event. */
export interface SchedulerState {
  done: number;
  running: RunningEpisode[];
  queued: number;
  /** Episodes that will not start (--max-cost stopped the eval). */
  skipped: number;
}

export type SchedulerEvent =
  | { type: 'started'; episode: PlannedEpisode; state: SchedulerState }
  | { type: 'epoch'; episode: PlannedEpisode; progress: EpochProgress; state: SchedulerState }
  | { type: 'finished'; episode: PlannedEpisode; state: SchedulerState }
  | { type: 'stopped'; state: SchedulerState };

export interface ScheduleOptions<R> {
  episodes: readonly PlannedEpisode[];
  /** Episodes running at once (at least 1). */
  concurrency: number;
  /** Plays one episode; a failure should come back as a value (a rejection ends the eval once the running episodes finish). */
  run: (episode: PlannedEpisode, onEpoch: (progress: EpochProgress) => void) => Promise<R>;
  /** Asked before every start, with where the eval stands; false stops starting episodes (the rest are skipped). */
  mayStart?: (state: SchedulerState) => boolean;
  /** Called when a result is in, before the next episode starts. */
  onResult?: (episode: PlannedEpisode, result: R) => void;
  onEvent?: (event: SchedulerEvent) => void;
}

export interface ScheduleOutcome<R> {
  /** In the order the episodes finished. */
  results: { episode: PlannedEpisode; result: R }[];
  /** Episodes not started because mayStart said no. */
  skipped: PlannedEpisode[];
}

/** Plays the episodes `concurrency` at a time, in plan order, with events for a progress display. */
export async function runScheduled<R>(options: ScheduleOptions<R>): Promise<ScheduleOutcome<R>> {
  const queue = [...options.episodes];
  const running = new Map<PlannedEpisode, RunningEpisode>();
  const results: ScheduleOutcome<R>['results'] = [];
  const skipped: PlannedEpisode[] = [];
  const state = (): SchedulerState => ({ done: results.length, running: [...running.values()], queued: queue.length, skipped: skipped.length });
  const emit = (event: SchedulerEvent) => options.onEvent?.(event);

  const next = (): PlannedEpisode | undefined => {
    if (queue.length === 0) return undefined;
    if (options.mayStart && !options.mayStart(state())) {
      skipped.push(...queue.splice(0));
      emit({ type: 'stopped', state: state() });
      return undefined;
    }
    return queue.shift();
  };

  const lane = async (): Promise<void> => {
    for (let episode = next(); episode !== undefined; episode = next()) {
      const entry: RunningEpisode = { task_id: episode.task_id, seed: episode.seed, epoch: null };
      running.set(episode, entry);
      emit({ type: 'started', episode, state: state() });
      const current = episode;
      try {
        const result = await options.run(episode, (progress) => {
          entry.epoch = progress;
          emit({ type: 'epoch', episode: current, progress, state: state() });
        });
        results.push({ episode, result });
        options.onResult?.(episode, result);
      } catch (error) {
        queue.length = 0; // a failure of the eval itself: start nothing more, let the running episodes end
        throw error;
      } finally {
        running.delete(episode);
      }
      emit({ type: 'finished', episode, state: state() });
    }
  };

  const lanes = Math.max(1, Math.min(Math.floor(options.concurrency), options.episodes.length));
  const settled = await Promise.allSettled(Array.from({ length: lanes }, lane));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return { results, skipped };
}
