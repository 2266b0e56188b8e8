import type { EvalEpisode, SchedulerEvent, SchedulerState } from '../layers/agent/src';
import { fill, TERMINAL_WIDTH } from './help-text';

/** How often a non-terminal stream gets a progress line while nothing starts or finishes. */
export const PROGRESS_INTERVAL_MS = 30_000;

/**
 * "baseline: 3 done, 2 running, 10 queued: easy_mnist/42 epoch 7 (2/5), easy_mnist/43 starting",
 * within `width` columns: running episodes that do not fit are counted ("+2 more").
 */
export function describeState(state: SchedulerState, what: string, width = TERMINAL_WIDTH): string {
  const counts = [`${state.done} done`, `${state.running.length} running`, `${state.queued} queued`];
  if (state.skipped > 0) counts.push(`${state.skipped} skipped`);
  const head = `${what}: ${counts.join(', ')}`;
  const running = state.running.map((r) => `${r.task_id}/${r.seed} ${r.epoch ? `epoch ${r.epoch.epoch} (${r.epoch.index}/${r.epoch.total})` : 'starting'}`);
  for (let shown = running.length; shown > 0; shown--) {
    const more = shown < running.length ? `, +${running.length - shown} more` : '';
    const line = `${head}: ${running.slice(0, shown).join(', ')}${more}`;
    if (line.length <= width) return line;
  }
  return head;
}

/** "  easy_mnist/42: score 0.9684, 100 epochs, 8 steps, 59.8 s, submitted" (the seconds: training). */
export function describeFinished(episode: EvalEpisode): string {
  const head = `  ${episode.task_id}/${episode.seed}`;
  if (episode.error !== undefined) return `${head}: failed: ${episode.error}`;
  const score = episode.score === null ? 'no grade' : `score ${episode.score.toFixed(4)}`;
  const seconds = episode.training_seconds === null ? '' : `, ${episode.training_seconds.toFixed(1)} s`;
  return `${head}: ${score}, ${episode.epochs_used} epochs, ${episode.steps} steps${seconds}, ${episode.status.replace('_', '-')}`;
}

/**
 * Progress across an eval's episodes on stderr: on a terminal one line rewritten in place
 * (done/running/queued and the epoch of each running episode); otherwise a line when an
 * episode starts or finishes and at most every 30 s while epochs go by.
 */
export function evalProgressPrinter(stream: NodeJS.WritableStream, now: () => number = Date.now) {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  // A rewritten line that wrapped could not be rewritten: it is cut to the terminal's width.
  const columns = () => Math.max(20, (stream as { columns?: number }).columns ?? TERMINAL_WIDTH);
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
      const line = describeState({ ...event.state, done: event.state.done + resumed }, what, tty ? columns() - 1 : TERMINAL_WIDTH);
      if (tty) {
        stream.write(`\r\x1b[K${cut(line, columns() - 1)}`);
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
      stream.write(`${wrapLine(text)}\n`);
    },
    end: clear,
  };
}

function cut(line: string, width: number): string {
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** A line that stays, wrapped at the terminal width under its own indentation. */
function wrapLine(line: string): string {
  if (line.length <= TERMINAL_WIDTH) return line;
  const indent = /^ */.exec(line)![0];
  return fill(line.split(/\s+/).filter((w) => w !== ''), indent, `${indent}  `, TERMINAL_WIDTH).join('\n');
}
