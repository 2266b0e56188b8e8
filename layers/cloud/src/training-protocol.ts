import { z } from 'zod';
import { DatasetUnavailableError, echoJson, isWithinJsonDepth, JSON_MAX_DEPTH, STEP_REASON_MAX_LENGTH, stepReasonSchema, type ToolCall } from '../../core/src';
import { EPISODE_SERVICE_ERROR_CODES, EpisodeServiceError, type StepView } from '../../episodes/src';

/**
 * The agreement between the api Lambda and the training Lambda (functions/README.md,
 * "training"): the api sends one step, the training Lambda executes it with the stored
 * service and answers the step view (synchronous invocation) or just stores it
 * (asynchronous invocation; the api answers polls from the stored result).
 */
const nonEmpty = z.string().min(1);

const trainingStepEvent = z.object({
  kind: z.literal('ml-trainer.step'),
  version: z.literal(1),
  /** `sync`: the api waits for the answer. `async`: invoked with InvocationType Event; nobody reads the answer. */
  mode: z.enum(['sync', 'async']),
  tenant: nonEmpty,
  episode_id: nonEmpty,
  // The core validates the tool and its arguments (an invalid call is still a step).
  call: z
    .custom<ToolCall>((value) => value !== null && typeof value === 'object' && !Array.isArray(value), 'call must be {tool, arguments}')
    // As every way in: hashing or validating a call nested deeper would overflow the stack.
    .refine((value) => isWithinJsonDepth(value), `call is nested deeper than the limit of ${JSON_MAX_DEPTH} levels`)
    // The agent's reason travels with the call so the training Lambda stores it with the step (bounded as on every way in).
    .refine((value) => stepReasonSchema.optional().safeParse(value.reason).success, {
      message: `call.reason must be text of at most ${STEP_REASON_MAX_LENGTH} characters without control characters other than newline and tab`,
      path: ['reason'],
    }),
  /** Always set: the client's request_id, or one the api generated (the step id a poll names). */
  request_id: nonEmpty,
  /** SHA-256 of the canonical call (callSha256), for the step records. */
  call_sha256: nonEmpty,
  requested_at: nonEmpty,
  /** async: not started by then, the step is not started at all (it waited too long in Lambda's queue). */
  start_by: z.string().optional(),
});

export type TrainingStepEvent = z.infer<typeof trainingStepEvent>;

/** What the training Lambda answers. A service refusal is an answer; a fault is a thrown error (FunctionError). */
export type TrainingStepResponse =
  | { ok: true; view: StepView }
  | { ok: false; error: { code: EpisodeServiceError['code']; message: string; details: Record<string, unknown> } }
  /** An asynchronous step that waited in Lambda's queue past its start_by: not executed (recorded as failed). */
  | { ok: false; skipped: 'not_started' }
  /** The task's dataset is not in the datasets bucket (or not the official bytes): nothing was committed. */
  | { ok: false; unavailable: { message: string; detail: DatasetUnavailableError['detail'] } };

const serviceRefusal = z.object({
  ok: z.literal(false),
  error: z.object({ code: z.enum(EPISODE_SERVICE_ERROR_CODES), message: z.unknown(), details: z.record(z.string(), z.unknown()).optional() }),
});

const datasetUnavailable = z.object({
  ok: z.literal(false),
  unavailable: z.object({
    message: z.string(),
    detail: z.object({ dataset: z.string(), data_dir: z.string(), next_attempt_at: z.string().nullable() }),
  }),
});

/** Checks an incoming event; a malformed one is an error (it can only come from a bug or a hand-made invocation). */
export function parseTrainingEvent(event: unknown): TrainingStepEvent {
  const parsed = trainingStepEvent.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`);
    throw new Error(`Malformed training event: ${problems.join('; ')}.`);
  }
  return parsed.data;
}

export function serviceErrorResponse(error: EpisodeServiceError): TrainingStepResponse {
  return { ok: false, error: { code: error.code, message: error.message, details: error.details } };
}

export function datasetUnavailableResponse(error: DatasetUnavailableError): TrainingStepResponse {
  return { ok: false, unavailable: { message: error.message, detail: error.detail } };
}

/** The step view, or the service's refusal rethrown as the same EpisodeServiceError (a missing dataset as the DatasetUnavailableError). */
export function unwrapTrainingResponse(response: unknown): StepView {
  const r = response as TrainingStepResponse | null;
  if (r && r.ok === true && r.view && typeof r.view === 'object') return r.view;
  const unavailable = datasetUnavailable.safeParse(response);
  if (unavailable.success) throw new DatasetUnavailableError(unavailable.data.unavailable.message, unavailable.data.unavailable.detail);
  const refusal = serviceRefusal.safeParse(response);
  if (refusal.success) {
    const { code, message, details } = refusal.data.error;
    throw new EpisodeServiceError(code, String(message), details ?? {});
  }
  throw new Error(`The training Lambda answered something that is not a step result: ${echoJson(response)}`);
}
