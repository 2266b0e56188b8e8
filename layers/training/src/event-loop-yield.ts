/**
 * TensorFlow kernels run synchronously on the calling thread, so a pass over a dataset would
 * hold the event loop for its whole length (seconds for a CNN epoch; longer on a small Lambda).
 * Timers and I/O of the same process must keep running meanwhile: the lease heartbeat of the
 * step being trained, and on the local server every other request. A pass calls `maybe()`
 * after each batch; once `everyMs` of work has gone by, it lets the event loop run a turn.
 * Yielding changes no computation (each batch is complete before it), so results stay bit for bit.
 */
export const YIELD_EVERY_MS = 50;

export class EventLoopYield {
  private last = performance.now();

  constructor(private readonly everyMs = YIELD_EVERY_MS) {}

  async maybe(): Promise<void> {
    if (performance.now() - this.last < this.everyMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}
