import type { ToolCall } from '../../core/src';
import { EpisodeServiceError, type StepView } from '../../episodes/src/episode-service';

/**
 * The agreement between the api Lambda and the training Lambda (functions/README.md,
 * "training"): the api sends one step, the training Lambda executes it with the stored
 * service and answers the step view (synchronous invocation) or just stores it
 * (asynchronous invocation; the api answers polls from the stored result).
 */
export interface TrainingStepEvent {
  kind: 'ml-trainer.step';
  version: 1;
  /** `sync`: the api waits for the answer. `async`: invoked with InvocationType Event; nobody reads the answer. */
  mode: 'sync' | 'async';
  tenant: string;
  episode_id: string;
  call: ToolCall;
  /** Always set: the client's request_id, or one the api generated (the step id a poll names). */
  request_id: string;
  /** SHA-256 of the canonical call (the stored service's callSha256), for the step records. */
  call_sha256: string;
  requested_at: string;
  /** async: not started by then, the step is not started at all (it waited too long in Lambda's queue). */
  start_by?: string;
}

/** What the training Lambda answers. A service refusal is an answer; a fault is a thrown error (FunctionError). */
export type TrainingStepResponse =
  | { ok: true; view: StepView }
  | { ok: false; error: { code: EpisodeServiceError['code']; message: string; details: Record<string, unknown> } }
  /** An asynchronous step that waited in Lambda's queue past its start_by: not executed (recorded as failed). */
  | { ok: false; skipped: 'not_started' };

const SERVICE_CODES = new Set<string>(['not_found', 'conflict', 'invalid_request', 'in_progress']);

/** Checks an incoming event; a malformed one is an error (it can only come from a bug or a hand-made invocation). */
export function parseTrainingEvent(event: unknown): TrainingStepEvent {
  const e = event as Partial<TrainingStepEvent> | null;
  const problems: string[] = [];
  if (!e || typeof e !== 'object') throw new Error('The training event must be an object.');
  if (e.kind !== 'ml-trainer.step' || e.version !== 1) problems.push('kind/version must be "ml-trainer.step"/1');
  if (e.mode !== 'sync' && e.mode !== 'async') problems.push('mode must be sync or async');
  for (const field of ['tenant', 'episode_id', 'request_id', 'call_sha256', 'requested_at'] as const) {
    if (typeof e[field] !== 'string' || e[field].length === 0) problems.push(`${field} must be a non-empty string`);
  }
  if (!e.call || typeof e.call !== 'object' || Array.isArray(e.call)) problems.push('call must be {tool, arguments}');
  if (e.start_by !== undefined && typeof e.start_by !== 'string') problems.push('start_by must be an ISO time');
  if (problems.length > 0) throw new Error(`Malformed training event: ${problems.join('; ')}.`);
  return e as TrainingStepEvent;
}

export function serviceErrorResponse(error: EpisodeServiceError): TrainingStepResponse {
  return { ok: false, error: { code: error.code, message: error.message, details: error.details } };
}

/** The step view, or the service's refusal rethrown as the same EpisodeServiceError. */
export function unwrapTrainingResponse(response: unknown): StepView {
  const r = response as TrainingStepResponse | null;
  if (r && r.ok === true && r.view && typeof r.view === 'object') return r.view;
  if (r && r.ok === false && 'error' in r && r.error && SERVICE_CODES.has(r.error.code)) {
    throw new EpisodeServiceError(r.error.code, String(r.error.message), r.error.details ?? {});
  }
  throw new Error(`The training Lambda answered something that is not a step result: ${JSON.stringify(response)?.slice(0, 300)}`);
}
