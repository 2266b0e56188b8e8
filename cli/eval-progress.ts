import type { EvalEpisode, SchedulerEvent, SchedulerState } from '../layers/agent/src';

/** How often a non-terminal stream gets a progress line while nothing starts or finishes. */
export const PROGRESS_INTERVAL_MS = 30_000;

/** "3 done, 2 running (easy_mnist/42 epoch 7, easy_mnist/43 starting), 10 queued". */
export function describeState(state: SchedulerState, what: string): string {
  const running = state.running.map((r) => `${r.task_id}/${r.seed} ${r.epoch ? `epoch ${r.epoch.epoch} (${r.epoch.index}/${r.epoch.total})` : 'starting'}`);
  const parts = [`${state.done} done`, `${state.running.length} running${running.length ? ` (${running.join(', ')})` : ''}`, `${state.queued} queued`];
  if (state.skipped > 0) parts.push(`${state.skipped} skipped`);
  return `${what}: ${parts.join(', ')}`;
}

export function describeFinished(episode: EvalEpisode): string {
  const head = `  ${episode.task_id} seed ${episode.seed}`;
  if (episode.error !== undefined) return `${head}: failed: ${episode.error}`;
  const score = episode.score === null ? 'no grade' : `score ${episode.score.toFixed(4)}`;
  const seconds = episode.training_seconds === null ? '' : `, ${episode.training_seconds.toFixed(1)} s training`;
  return `${head}: ${score} (${episode.status}, ${episode.epochs_used} epochs, ${episode.steps} steps${seconds})`;
}

/**
 * Progress across an eval's episodes on stderr: on a terminal one line rewritten in place
 * (done/running/queued and the epoch of each running episode); otherwise a line when an
 * episode starts or finishes and at most every 30 s while epochs go by.
 */
export function evalProgressPrinter(stream: NodeJS.WritableStream, now: () => number = Date.now) {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  let open = false;
  let lastLineMs = 0;
  const clear = () => {
    if (!open) return;
    stream.write('\r\x1b[K');
    open = false;
  };
  return {
    /** `what`: "baseline" or "reference default"; `resumed`: episodes done before this run (--resume). */
    event(event: SchedulerEvent, what: string, resumed = 0): void {
      const line = describeState({ ...event.state, done: event.state.done + resumed }, what);
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        open = true;
        return;
      }
      if (event.type === 'epoch' && now() - lastLineMs < PROGRESS_INTERVAL_MS) return;
      lastLineMs = now();
      stream.write(`${line}\n`);
    },
    /** A line that stays (a finished episode, a note): the rewritten line is cleared first. */
    note(text: string): void {
      clear();
      stream.write(`${text}\n`);
    },
    end: clear,
  };
}
