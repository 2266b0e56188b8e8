import { listTaskModules, MAX_EPOCHS_PER_CALL } from '../../core/src';
import type { EpisodeLease, EpisodeLeaseState, EpisodeStore } from '../../storage/src';
import { notFound, type EpisodeReader } from './episode-lookup';
import { EpisodeServiceError, type StepRequest, type StepView } from './episode-service';
import { planStep, type PlannedStep } from './step-plan';

/**
 * How long a step's lease lasts unless its service says otherwise (the training Lambda
 * does: its timeout bounds a step there): twice the longest step, one run_epochs of
 * MAX_EPOCHS_PER_CALL epochs of the slowest task at its conservative Lambda estimate
 * (hard_cifar: 20 × 25 s, where 2 local cores take about 5 s an epoch), about 17 minutes.
 * Too short, a lease lapses under a step still running and lets a second execution in (it
 * then loses at the commit, so nothing breaks but the training is wasted); too long, an
 * episode whose executor crashed stays busy that long before a retry can run.
 */
export const DEFAULT_STEP_LEASE_MS = 2 * MAX_EPOCHS_PER_CALL * Math.max(...listTaskModules().map((m) => m.estimates.lambda_seconds_per_epoch)) * 1000;

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
export async function claimEpisode(
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
  if (state.lease === null || state.version !== version) return { kind: 'moved' };
  if (isSameRequest(state.lease, planned)) return { kind: 'duplicate', lease: state.lease };
  throw busyRefusal(state.lease, planned);
}

/**
 * Single flight: plans the step and, when it must execute, runs `execute` holding the
 * episode's lease, so one execution per episode runs at a time. A duplicate of the
 * executing request waits for it and answers its stored result (the next plan replays
 * it); any other call is refused with episode_busy without running.
 */
export async function stepInSingleFlight(
  episodes: Pick<EpisodeStore, 'acquireLease' | 'readLease'> & EpisodeReader,
  request: Pick<StepRequest, 'tenant' | 'episodeId' | 'call' | 'requestId'>,
  options: { newHolder: () => string; leaseMs: number },
  execute: (planned: PlannedStep, lease: EpisodeLease) => Promise<StepView>,
): Promise<StepView> {
  for (let claims = 1; ; claims++) {
    const plan = await planStep(episodes, request);
    if (plan.kind === 'answer') return plan.view;
    const claim = await claimEpisode(episodes, plan.step, options.newHolder(), options.leaseMs);
    if (claim.kind === 'acquired') return execute(plan.step, claim.lease);
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
 * `maxWaitMs` (default: the lease's expiry) has passed. True when the wait ended that way,
 * false when it gave up first (the lease is still held).
 */
export async function waitForLeaseEnd(
  episodes: LeaseReader,
  planned: PlannedStep,
  lease: EpisodeLease,
  options: { maxWaitMs?: number } = {},
): Promise<boolean> {
  const { tenant, episode_id: episodeId, version } = planned.episode;
  // readLease reports a lapsed lease as gone by the store's clock; this bound, by the real one, only guards against a clock that never moves.
  const giveUpAt = Date.now() + (options.maxWaitMs ?? Math.max(0, Date.parse(lease.expires_at) - Date.now()) + MAX_POLL_MS);
  for (let delay = FIRST_POLL_MS; Date.now() < giveUpAt; delay = Math.min(MAX_POLL_MS, delay * 2)) {
    await sleep(Math.min(delay, Math.max(1, giveUpAt - Date.now())));
    const state: EpisodeLeaseState | null = await episodes.readLease(tenant, episodeId);
    if (state === null || state.version !== version || state.lease?.holder !== lease.holder) return true;
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
