import { PassThrough } from 'node:stream';
import type { SchedulerEvent, SchedulerState } from '../../layers/agent/src';
import { describeState, evalProgressPrinter, PROGRESS_INTERVAL_MS } from '../../cli/eval-progress';

const state: SchedulerState = {
  done: 3,
  running: [
    { task_id: 'easy_mnist', seed: 42, epoch: { epoch: 7, index: 2, total: 5, learning_rate: 0.001, train_loss: 0.3, train_accuracy: 0.9, val_loss: 0.3, val_accuracy: 0.9, seconds: 0.1, diverged: false } },
    { task_id: 'easy_mnist', seed: 43, epoch: null },
  ],
  queued: 10,
  skipped: 0,
};

function capture(tty: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (tty) stream.isTTY = true;
  const chunks: string[] = [];
  stream.on('data', (c) => chunks.push(String(c)));
  return { stream, text: () => chunks.join('') };
}

describe('eval progress', () => {
  it('names done, running (with each one\'s epoch) and queued', () => {
    expect(describeState(state, 'baseline', 100)).toBe('baseline: 3 done, 2 running, 10 queued: easy_mnist/42 epoch 7 (2/5), easy_mnist/43 starting');
    expect(describeState({ ...state, running: [], queued: 0, skipped: 4 }, 'llm')).toBe('llm: 3 done, 0 running, 0 queued, 4 skipped');
  });

  it('fits the width, counting the running episodes that do not fit', () => {
    expect(describeState(state, 'reference default', 90)).toBe('reference default: 3 done, 2 running, 10 queued: easy_mnist/42 epoch 7 (2/5), +1 more');
    expect(describeState(state, 'reference default', 40)).toBe('reference default: 3 done, 2 running, 10 queued');
  });

  it('rewrites one line on a terminal, clearing it before a note', () => {
    const out = capture(true);
    const printer = evalProgressPrinter(out.stream);
    printer.event({ type: 'epoch', episode: { task_id: 'easy_mnist', seed: 42 }, progress: state.running[0].epoch!, state }, 'baseline');
    printer.note('  easy_mnist seed 41: score 0.9');
    expect(out.text()).toBe(`\r\x1b[K${describeState(state, 'baseline')}\r\x1b[K  easy_mnist seed 41: score 0.9\n`);
  });

  it('elsewhere prints starts and finishes, and epochs at most every 30 s', () => {
    const out = capture(false);
    let now = 0;
    const printer = evalProgressPrinter(out.stream, () => now);
    const epochEvent: SchedulerEvent = { type: 'epoch', episode: { task_id: 'easy_mnist', seed: 42 }, progress: state.running[0].epoch!, state };
    printer.event({ type: 'started', episode: { task_id: 'easy_mnist', seed: 43 }, state }, 'b');
    now = 1000;
    printer.event(epochEvent, 'b');
    now = PROGRESS_INTERVAL_MS + 1;
    printer.event(epochEvent, 'b');
    printer.event({ type: 'finished', episode: { task_id: 'easy_mnist', seed: 43 }, state }, 'b');
    expect(out.text().trim().split('\n')).toHaveLength(3);
    expect(out.text()).not.toContain('\r');
  });
});
