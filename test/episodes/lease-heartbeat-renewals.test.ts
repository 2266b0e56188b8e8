import { EpisodeServiceError } from '../../layers/episodes/src/episode-service';
import { holdingLease, type LeaseTimer } from '../../layers/episodes/src/lease-heartbeat';
import type { EpisodeLease } from '../../layers/storage/src';

/** holdingLease against a scripted renewer: what each renewal outcome does to the step and the log. */

const TARGET = {
  tenant: 'tenant-renewals',
  episodeId: 'ep-1',
  lease: { holder: 'holder-1', request_id: 'req-1', call_sha256: 'c'.repeat(64), expires_at: '2030-01-01T00:00:30.000Z' } satisfies EpisodeLease,
};

type Renewal = { expires_at: string } | null;

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A renewer whose every renewal waits until the test settles it. */
function scriptedRenewer() {
  const calls: { args: unknown[]; outcome: ReturnType<typeof deferred<Renewal>> }[] = [];
  return {
    calls,
    renewLease: (...args: unknown[]) => {
      const outcome = deferred<Renewal>();
      calls.push({ args, outcome });
      return outcome.promise;
    },
  };
}

/**
 * A timer beaten by hand whose beat stays callable after its stop: a beat already due
 * when the heartbeat stops (the heartbeat itself must ignore it).
 */
function leakyTimer() {
  let beat: (() => Promise<void>) | null = null;
  let stops = 0;
  const timer: LeaseTimer = {
    every(_ms, onBeat) {
      beat = onBeat;
      return () => void stops++;
    },
  };
  return { timer, beat: () => beat!(), stops: () => stops };
}

function logger() {
  const warnings: { message: string; details: unknown }[] = [];
  return { warnings, warn: (message: string, details?: unknown) => void warnings.push({ message, details }) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('holdingLease renewals', () => {
  it('renews by the lease duration; a beat while a renewal is in flight starts no second one and resolves with it', async () => {
    const renewer = scriptedRenewer();
    const hand = leakyTimer();
    const log = logger();
    const step = deferred<string>();
    const held = holdingLease(renewer, TARGET, { leaseMs: 30_000, timer: hand.timer, logger: log }, () => step.promise);

    const first = hand.beat();
    let secondDone = false;
    const second = hand.beat().then(() => (secondDone = true));
    await flush();
    expect(renewer.calls.map((c) => c.args)).toEqual([[TARGET.tenant, TARGET.episodeId, TARGET.lease.holder, 30_000]]);
    expect(secondDone).toBe(false);
    renewer.calls[0].outcome.resolve({ expires_at: '2030-01-01T00:01:00.000Z' });
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);

    const third = hand.beat();
    expect(renewer.calls).toHaveLength(2);
    renewer.calls[1].outcome.resolve({ expires_at: '2030-01-01T00:01:30.000Z' });
    await third;
    step.resolve('committed');
    expect(await held).toBe('committed');
    expect(log.warnings).toEqual([]);
  });

  it('a failed renewal is logged and retried at the next beat; the step keeps its lease', async () => {
    const renewer = scriptedRenewer();
    const hand = leakyTimer();
    const log = logger();
    const step = deferred<string>();
    let signal!: AbortSignal;
    const held = holdingLease(renewer, TARGET, { leaseMs: 30_000, timer: hand.timer, logger: log }, (leaseLost) => {
      signal = leaseLost;
      return step.promise;
    });
    const beat = hand.beat();
    renewer.calls[0].outcome.reject(new Error('throttled'));
    await beat;
    expect(log.warnings).toEqual([
      { message: 'Could not renew the lease of an executing step; retrying at the next beat', details: { episode_id: TARGET.episodeId, error: 'Error: throttled' } },
    ]);
    expect(signal.aborted).toBe(false);
    const retry = hand.beat();
    expect(renewer.calls).toHaveLength(2);
    renewer.calls[1].outcome.resolve({ expires_at: '2030-01-01T00:01:00.000Z' });
    await retry;
    step.resolve('committed');
    expect(await held).toBe('committed');
  });

  it('a renewal that finds the lease lost aborts the step with a lease_lost conflict, logs it where the step ends with it, and renews no more', async () => {
    const renewer = scriptedRenewer();
    const hand = leakyTimer();
    const log = logger();
    const trainingEnds = deferred<void>();
    const held = holdingLease(renewer, TARGET, { leaseMs: 30_000, timer: hand.timer, logger: log }, async (leaseLost) => {
      await trainingEnds.promise;
      throw leaseLost.reason;
    });
    const beat = hand.beat();
    renewer.calls[0].outcome.resolve(null);
    await beat;
    // Still training, its lease gone: a beat due now renews nothing.
    await hand.beat();
    expect(renewer.calls).toHaveLength(1);
    trainingEnds.resolve();
    const error = await held.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({
      code: 'conflict',
      message: `This step's lease on episode ${TARGET.episodeId} lapsed while it ran (another step may be executing now); nothing was committed. Send it again (the same request_id is safe).`,
      details: { episode_id: TARGET.episodeId, reason: 'lease_lost' },
    });
    expect(log.warnings).toEqual([
      {
        message: 'An executing step lost its lease (it lapsed before a renewal) and did not commit',
        details: { episode_id: TARGET.episodeId, holder: TARGET.lease.holder, request_id: TARGET.lease.request_id },
      },
    ]);
    await hand.beat();
    expect(renewer.calls).toHaveLength(1);
  });

  it('a step that fails for another reason after losing its lease is not logged as a lost lease', async () => {
    const renewer = scriptedRenewer();
    const hand = leakyTimer();
    const log = logger();
    const held = holdingLease(renewer, TARGET, { leaseMs: 30_000, timer: hand.timer, logger: log }, async (leaseLost) => {
      await new Promise((resolve) => leaseLost.addEventListener('abort', resolve));
      throw new Error('trainer fault');
    });
    const beat = hand.beat();
    renewer.calls[0].outcome.resolve(null);
    await beat;
    await expect(held).rejects.toThrow('trainer fault');
    expect(log.warnings).toEqual([]);
  });

  it('a step that fails while holding its lease is not logged as a lost lease', async () => {
    const renewer = scriptedRenewer();
    const hand = leakyTimer();
    const log = logger();
    await expect(
      holdingLease(renewer, TARGET, { leaseMs: 30_000, timer: hand.timer, logger: log }, async () => {
        throw new Error('trainer fault');
      }),
    ).rejects.toThrow('trainer fault');
    expect(log.warnings).toEqual([]);
  });

  it('a renewal in flight when the step ends (its commit removed the lease) waits for it and loses nothing; a later beat renews nothing', async () => {
    const renewer = scriptedRenewer();
    const hand = leakyTimer();
    const log = logger();
    const step = deferred<string>();
    let signal!: AbortSignal;
    const held = holdingLease(renewer, TARGET, { leaseMs: 30_000, timer: hand.timer, logger: log }, (leaseLost) => {
      signal = leaseLost;
      return step.promise;
    });
    void hand.beat();
    step.resolve('committed');
    let ended = false;
    void held.then(() => (ended = true));
    await flush();
    expect(ended).toBe(false);
    renewer.calls[0].outcome.resolve(null);
    expect(await held).toBe('committed');
    expect(signal.aborted).toBe(false);
    expect(hand.stops()).toBe(1);
    await hand.beat();
    expect(renewer.calls).toHaveLength(1);
    expect(log.warnings).toEqual([]);
  });
});

describe('holdingLease with the real timer', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('renews every third of the lease while the step runs and leaves no timer behind', async () => {
    jest.useFakeTimers();
    const renewer = scriptedRenewer();
    const step = deferred<string>();
    const held = holdingLease(renewer, TARGET, { leaseMs: 30, logger: logger() }, () => step.promise);
    jest.advanceTimersByTime(9);
    expect(renewer.calls).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(renewer.calls).toHaveLength(1);
    renewer.calls[0].outcome.resolve({ expires_at: '2030-01-01T00:00:00.030Z' });
    step.resolve('done');
    expect(await held).toBe('done');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('works where setInterval answers a plain id without unref, and clears that interval', async () => {
    jest.spyOn(globalThis, 'setInterval').mockImplementation((() => 7) as unknown as typeof setInterval);
    const cleared = jest.spyOn(globalThis, 'clearInterval').mockImplementation(() => undefined);
    const renewer = scriptedRenewer();
    expect(await holdingLease(renewer, TARGET, { leaseMs: 30, logger: logger() }, async () => 'done')).toBe('done');
    expect(cleared).toHaveBeenCalledWith(7);
  });
});
