import { epochsOfProgress, type EpochProgress, type StepProgress } from '../../core/src';

/** Reports each epoch of one step once, from the overlapping progress snapshots its polls return. */
export class EpochReporter {
  private lastIndex = 0;

  constructor(private readonly onEpoch: (progress: EpochProgress) => void) {}

  /** How many epochs of the step were reported. */
  get reported(): number {
    return this.lastIndex;
  }

  report(progress: StepProgress | undefined): void {
    if (progress === undefined) return;
    for (const epoch of epochsOfProgress(progress)) {
      if (epoch.index <= this.lastIndex) continue;
      this.lastIndex = epoch.index;
      try {
        this.onEpoch(epoch);
      } catch {
        // A failing display must not fail the step.
      }
    }
  }
}

/** What one look at a step's status found. */
export type StepStatusPeek =
  /** 202: the step is pending or running (with the epochs done so far, once there are some). */
  | { kind: 'running'; progress?: StepProgress }
  /** 404 naming the step: the server does not (or not yet) know it as running. */
  | { kind: 'unknown_step' }
  /** The server has no status route (an older server): nothing to poll, ever. */
  | { kind: 'unsupported' }
  /** Anything else (200, 5xx, a network error): nothing to report this time. */
  | { kind: 'nothing' };

export interface StepWatchOptions {
  intervalMs: number;
  /** Stop after this many answers in a row that do not know the step (the cloud records only the steps it runs asynchronously). */
  maxUnknown: number;
  onUnsupported: () => void;
}

/**
 * Polls a step's status while its synchronous request is in flight, reporting new epochs.
 * stop() ends it (aborting a poll in flight, whose answer is dropped: the request's own
 * answer is about to be shown).
 */
export function watchStep(
  peek: (signal: AbortSignal) => Promise<StepStatusPeek>,
  reporter: EpochReporter,
  options: StepWatchOptions,
): { stop(): Promise<void> } {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const pause = () =>
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.intervalMs);
      abort.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  const loop = (async () => {
    let unknown = 0;
    while (!abort.signal.aborted) {
      await pause();
      if (abort.signal.aborted) return;
      const found = await peek(abort.signal).catch((): StepStatusPeek => ({ kind: 'nothing' }));
      if (abort.signal.aborted) return;
      if (found.kind === 'unsupported') return options.onUnsupported();
      if (found.kind === 'running') {
        unknown = 0;
        reporter.report(found.progress);
      } else if (found.kind === 'unknown_step' && ++unknown >= options.maxUnknown) return;
    }
  })();
  return {
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await loop;
    },
  };
}
