import type { Logger } from '../../core/src';
import type { EpisodeLease, EpisodeLeaseState, EpisodeStore } from '../../storage/src';
import { notFound, type EpisodeReader } from './episode-lookup';
import { EpisodeServiceError, type StepRequest, type StepView } from './episode-service';
import { holdingLease, type LeaseTimer } from './lease-heartbeat';
import { planStep, type PlannedStep, type StepPlan } from './step-plan';

/** A duplicate's polling of the item while the first call executes: bounded backoff. */
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 1000;
/** A step that keeps finding the episode moved on or its lease just ended gives up after this many claims. */
const MAX_CLAIMS = 20;

export type LeaseReader = Pick<EpisodeStore, 'readLease'>;

/** What claiming the episode for a planned step came to: the lease, the same request executing elsewhere, or a changed episode (plan again). */
export type Claim = { kind: 'acquired'; lease: EpisodeLease } | { kind: 'duplicate'; lease: EpisodeLease } | { kind: 'moved' };

/**
 * Takes the episode's lease for a planned step, at the version it was planned on. Another
 * step's live lease refuses it at once (busyRefusal); the same request's is a duplicate.
 */
async function claimEpisode(
  episodes: Pick<EpisodeStore, 'acquireLease'>,
  planned: PlannedStep,
  holder: string,
  leaseMs: number,
): Promise<Claim> {
  const { tenant, episode_id: episodeId, version } = planned.episode;
  const claim = { holder, request_id: planned.requestId ?? null, call_sha256: planned.callHash };
  const outcome = await episodes.acquireLease(tenant, episodeId, version, claim, leaseMs);
  if ('acquired' in outcome) return { kind: 'acquired', lease: outcome.acquired };
  const state = outcome.refused;
  if (state === null) throw notFound(episodeId);
  // Stryker disable next-line ObjectLiteral,StringLiteral: the caller plans again on any claim that is neither acquired nor duplicate; 'moved' only names that case
  if (state.lease === null || state.version !== version) return { kind: 'moved' };
  if (isSameRequest(state.lease, planned)) return { kind: 'duplicate', lease: state.lease };
  throw busyRefusal(state.lease, planned);
}

export interface SingleFlightOptions {
  newHolder: () => string;
  /** The lease's duration between renewals (DEFAULT_STEP_LEASE_MS unless a test needs another). */
  leaseMs: number;
  /** The renewals' timer (default: real intervals). */
  leaseTimer?: LeaseTimer;
  /** Where a renewal that failed or found the lease lost is logged. */
  logger: Pick<Logger, 'warn'>;
}

/**
 * Single flight: plans the step and, when it must execute, runs `execute` holding the
 * episode's lease (renewed while it runs, lease-heartbeat.ts), so one execution per
 * episode runs at a time. A duplicate of the executing request waits for it and answers
 * its stored result (the next plan replays it); any other call is refused with
 * episode_busy without running. `execute` must not commit once `leaseLost` is aborted.
 */
export async function stepInSingleFlight(
  episodes: Pick<EpisodeStore, 'acquireLease' | 'readLease' | 'renewLease'> & EpisodeReader,
  request: Pick<StepRequest, 'tenant' | 'episodeId' | 'call' | 'requestId'>,
  options: SingleFlightOptions,
  execute: (planned: PlannedStep, lease: EpisodeLease, leaseLost: AbortSignal) => Promise<StepView>,
  /** A plan of this request the caller made from a fresh read: used for the first claim instead of reading again. */
  firstPlan?: StepPlan,
): Promise<StepView> {
  for (let claims = 1; ; claims++) {
    const plan = claims === 1 && firstPlan !== undefined ? firstPlan : await planStep(episodes, request);
    if (plan.kind === 'answer') return plan.view;
    const claim = await claimEpisode(episodes, plan.step, options.newHolder(), options.leaseMs);
    if (claim.kind === 'acquired') {
      const { lease } = claim;
      const target = { tenant: plan.step.episode.tenant, episodeId: plan.step.episode.episode_id, lease };
      const heartbeat = { leaseMs: options.leaseMs, logger: options.logger, ...(options.leaseTimer ? { timer: options.leaseTimer } : {}) };
      return holdingLease(episodes, target, heartbeat, (leaseLost) => execute(plan.step, lease, leaseLost));
    }
    if (claim.kind === 'duplicate' && !(await waitForLeaseEnd(episodes, plan.step, claim.lease))) throw stillExecuting(plan.step);
    if (claims >= MAX_CLAIMS) throw stillExecuting(plan.step);
  }
}

function stillExecuting(planned: PlannedStep): EpisodeServiceError {
  return new EpisodeServiceError(
    'in_progress',
    `This step of episode ${planned.episode.episode_id} is still executing; send it again shortly (the same request_id is safe).`,
    { episode_id: planned.episode.episode_id, ...(planned.requestId !== undefined ? { step_id: planned.requestId } : {}) },
  );
}

/** Whether a live lease belongs to this very request (same request_id, same call): then its result is ours to wait for. */
export function isSameRequest(lease: EpisodeLease, planned: Pick<PlannedStep, 'requestId' | 'callHash'>): boolean {
  return planned.requestId !== undefined && lease.request_id === planned.requestId && lease.call_sha256 === planned.callHash;
}

/**
 * The refusal of a step while another one executes on the episode. The same request_id
 * with another call is the request_id conflict planStep reports for a stored result.
 */
export function busyRefusal(lease: EpisodeLease, planned: PlannedStep): EpisodeServiceError {
  const episodeId = planned.episode.episode_id;
  if (planned.requestId !== undefined && lease.request_id === planned.requestId) {
    return new EpisodeServiceError(
      'conflict',
      `request_id ${JSON.stringify(planned.requestId)} is already used by another call that is executing on this episode; a new call needs a new request_id.`,
      { field: 'request_id' },
    );
  }
  return new EpisodeServiceError(
    'episode_busy',
    `Episode ${episodeId} is executing another step; nothing ran. Send this call again once that step has committed.`,
    { episode_id: episodeId, lease_expires_at: lease.expires_at },
  );
}

/**
 * Waits while the same request executes elsewhere: polls the item's lease with a bounded
 * backoff until it is released, replaced, lapsed or the episode moved on, and at most until
 * `maxWaitMs` (default: the lease's expiry, pushed back as its holder renews it, so the wait
 * lasts while the holder lives and ends soon after its renewals stop) has passed. True when
 * the wait ended that way, false when it gave up first (the lease is still held).
 */
export async function waitForLeaseEnd(
  episodes: LeaseReader,
  planned: PlannedStep,
  lease: EpisodeLease,
  options: { maxWaitMs?: number } = {},
): Promise<boolean> {
  const { tenant, episode_id: episodeId, version } = planned.episode;
  // readLease reports a lapsed lease as gone by the store's clock; this bound, by the real one, only guards against a clock that never moves.
  let giveUpAt = Date.now() + (options.maxWaitMs ?? Math.max(0, Date.parse(lease.expires_at) - Date.now()) + MAX_POLL_MS);
  let expiresAt = Date.parse(lease.expires_at);
  for (let delay = FIRST_POLL_MS; Date.now() < giveUpAt; delay = Math.min(MAX_POLL_MS, delay * 2)) {
    await sleep(Math.min(delay, Math.max(1, giveUpAt - Date.now())));
    const state: EpisodeLeaseState | null = await episodes.readLease(tenant, episodeId);
    if (state === null || state.version !== version || state.lease?.holder !== lease.holder) return true;
    const renewedTo = Date.parse(state.lease.expires_at);
    // By how much the holder renewed (a difference, so the store's clock and ours need not agree).
    if (options.maxWaitMs === undefined && renewedTo > expiresAt) giveUpAt += renewedTo - expiresAt;
    expiresAt = Math.max(expiresAt, renewedTo);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
