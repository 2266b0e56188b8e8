import type { Logger } from '../../core/src';
import type { EpisodeLease, EpisodeStore } from '../../storage/src';
import { EpisodeServiceError } from './episode-service';

/**
 * How long a step's lease lasts between renewals, and how often its holder renews it. The
 * lease need not outlast a step, only the gap between two renewals: renewed every third of
 * it, two renewals in a row can fail (a throttled or retried write, an event loop busy
 * with a training batch) before it lapses under a live step. A crashed executor's lease
 * lapses within this time: until then a retry of its request_id waits and any other call
 * gets episode_busy. Shorter would add writes (one per renewal) and risk lapsing under a
 * slow but live step; longer keeps an episode blocked after a crash for no gain.
 */
export const DEFAULT_STEP_LEASE_MS = 30_000;
export const LEASE_RENEWALS_PER_DURATION = 3;

/** Runs `beat` every `ms` until the returned stop is called (injectable: tests beat by hand). */
export interface LeaseTimer {
  every(ms: number, beat: () => Promise<void>): () => void;
}

const realLeaseTimer: LeaseTimer = {
  every(ms, beat) {
    const interval = setInterval(() => void beat(), ms);
    interval.unref?.();
    return () => clearInterval(interval);
  },
};

export interface LeaseHeartbeatOptions {
  leaseMs: number;
  timer?: LeaseTimer;
  logger: Pick<Logger, 'warn'>;
}

type LeaseRenewer = Pick<EpisodeStore, 'renewLease'>;

/**
 * Runs `work` holding the episode's lease: renews it every third of its duration while
 * `work` runs, and stops in any case when it ends. When a renewal finds the lease lost
 * (it lapsed, and maybe another step took it), the signal given to `work` is aborted with
 * a conflict: the step must not commit. That refusal is logged where `work` ends with it,
 * not at the renewal: a renewal that fails because the step just committed (the commit
 * removes the lease) or released it lost nothing.
 */
export async function holdingLease<T>(
  episodes: LeaseRenewer,
  target: { tenant: string; episodeId: string; lease: EpisodeLease },
  options: LeaseHeartbeatOptions,
  work: (leaseLost: AbortSignal) => Promise<T>,
): Promise<T> {
  const heartbeat = new LeaseHeartbeat(episodes, target, options);
  try {
    return await work(heartbeat.signal);
  } catch (error) {
    if (heartbeat.signal.aborted && error === heartbeat.signal.reason) {
      options.logger.warn('An executing step lost its lease (it lapsed before a renewal) and did not commit', {
        episode_id: target.episodeId,
        holder: target.lease.holder,
        request_id: target.lease.request_id,
      });
    }
    throw error;
  } finally {
    await heartbeat.stop();
  }
}

/** The renewals of one held lease; one renewal in flight at a time. */
class LeaseHeartbeat {
  private readonly controller = new AbortController();
  private readonly stopTimer: () => void;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly episodes: LeaseRenewer,
    private readonly target: { tenant: string; episodeId: string; lease: EpisodeLease },
    private readonly options: LeaseHeartbeatOptions,
  ) {
    const timer = options.timer ?? realLeaseTimer;
    this.stopTimer = timer.every(Math.max(1, Math.floor(options.leaseMs / LEASE_RENEWALS_PER_DURATION)), () => this.beat());
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopTimer();
    await this.inFlight;
  }

  private beat(): Promise<void> {
    if (this.stopped || this.inFlight !== null) return this.inFlight ?? Promise.resolve();
    this.inFlight = this.renew().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async renew(): Promise<void> {
    const { tenant, episodeId, lease } = this.target;
    let renewed: { expires_at: string } | null;
    try {
      renewed = await this.episodes.renewLease(tenant, episodeId, lease.holder, this.options.leaseMs);
    } catch (error) {
      // The lease still has the rest of its duration: the next beat tries again.
      this.options.logger.warn('Could not renew the lease of an executing step; retrying at the next beat', { episode_id: episodeId, error: String(error) });
      return;
    }
    if (renewed !== null || this.stopped) return;
    this.stopped = true;
    this.stopTimer();
    this.controller.abort(leaseLost(episodeId));
  }
}

function leaseLost(episodeId: string): EpisodeServiceError {
  return new EpisodeServiceError(
    'conflict',
    `This step's lease on episode ${episodeId} lapsed while it ran (another step may be executing now); nothing was committed. Send it again (the same request_id is safe).`,
    { episode_id: episodeId, reason: 'lease_lost' },
  );
}
