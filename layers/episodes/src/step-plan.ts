import { episodeOverResult, REQUEST_ID_PATTERN, type ToolCall } from '../../core/src';
import { storedResultOf, type StoredEpisode, type StoredStepResult } from '../../storage/src';
import { callSha256 } from './call-identity';
import { loadEpisode, requireTenant, type EpisodeReader } from './episode-lookup';
import { EpisodeServiceError, stepView, type StepRequest, type StepView } from './episode-service';

/** A step that must execute: the episode as read (its version is what the commit is conditional on) and the call. */
export interface PlannedStep {
  episode: StoredEpisode;
  call: ToolCall;
  /** The call's identity (callSha256), stored with the result of a step that carries a request_id. */
  callHash: string;
  requestId: string | undefined;
}

/**
 * What a step comes to before anything runs: an answer now (the replay of a stored
 * request_id, or episode_over after the end: nothing is stored for either), or an
 * execution (a trainer, a checkpoint and a commit: step-executor.ts, or the training Lambda).
 */
export type StepPlan = { kind: 'answer'; view: StepView } | { kind: 'execute'; step: PlannedStep };

/**
 * Plans one step from the episode item alone. It only reads (an EpisodeReader cannot
 * write), so whatever it answers changed nothing; refusals (invalid request, unknown
 * episode, a request_id reused for another call) are EpisodeServiceErrors.
 */
export async function planStep(episodes: EpisodeReader, request: Pick<StepRequest, 'tenant' | 'episodeId' | 'call' | 'requestId'>): Promise<StepPlan> {
  const { tenant, episodeId, call, requestId } = request;
  requireTenant(tenant);
  requireRequestId(requestId);
  if (call === null || typeof call !== 'object' || Array.isArray(call)) {
    throw new EpisodeServiceError('invalid_request', 'A step needs a call: {"tool": <name>, "arguments": {...}}.', { field: 'call' });
  }
  const callHash = callSha256(call);
  const episode = await loadEpisode(episodes, tenant, episodeId);
  const replay = replayOf(episode, requestId, callHash, call);
  if (replay) return { kind: 'answer', view: replay };
  if (episode.record.status !== 'active') {
    // Not a step: the core answers episode_over and nothing changes.
    return { kind: 'answer', view: stepView(episode.episode_id, episode.version, episodeOverResult(episode.record, call)) };
  }
  return { kind: 'execute', step: { episode, call, callHash, requestId } };
}

function requireRequestId(requestId: unknown): void {
  if (requestId !== undefined && (typeof requestId !== 'string' || !REQUEST_ID_PATTERN.test(requestId))) {
    throw new EpisodeServiceError(
      'invalid_request',
      'request_id must be 1 to 128 characters: letters, digits and . _ : @ = + - (not starting with a symbol).',
      { field: 'request_id' },
    );
  }
}

/** The stored result of this request_id, or null when it has none; the same id with another call is a conflict. */
export function replayOf(episode: StoredEpisode, requestId: string | undefined, callHash: string, call: ToolCall): StepView | null {
  if (requestId === undefined) return null;
  const stored = storedResultOf(episode, requestId);
  if (stored === undefined) return null;
  if (stored.call_sha256 !== callHash) {
    throw new EpisodeServiceError(
      'conflict',
      `request_id ${JSON.stringify(requestId)} was already used for a different call on this episode (step version ${stored.version}); ` +
        `a new call (here ${JSON.stringify(String(call.tool))}) needs a new request_id.`,
      { field: 'request_id', version: stored.version },
    );
  }
  return { ...storedStepView(stored), replayed: true };
}

/** The view a committed step returned, as stored with its request_id. */
export function storedStepView(stored: StoredStepResult): StepView {
  return JSON.parse(stored.view) as StepView;
}
