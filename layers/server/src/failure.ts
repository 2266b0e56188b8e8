import { CoreError, DatasetUnavailableError } from '../../core/src';
import { EpisodeServiceError } from '../../episodes/src';
import { HttpError } from './http-error';
import { TenantError } from './tenant';

/**
 * What a thrown error means to a caller, independent of the interface:
 * - invalid: the request was wrong (400/422, JSON-RPC -32602, /ws VALIDATION_ERROR);
 * - not_found, conflict, in_progress: the service refused it (404, 409);
 * - quota_exceeded, unavailable: the service refused it for now (429, 503);
 * - step_failed: a step the service accepted failed without committing (500, with the reason);
 * - internal: a real fault; its message is NOT shown to callers (only logged).
 */
export interface Failure {
  kind:
    | 'invalid'
    | 'not_found'
    | 'conflict'
    | 'in_progress'
    | 'quota_exceeded'
    | 'unavailable'
    | 'step_failed'
    | 'unauthorized'
    | 'too_large'
    | 'unsupported_media_type'
    | 'internal';
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
}

const INTERNAL_MESSAGE = 'Internal server error; the request was not completed. The server log has the details.';

/** Fastify's own errors (URL routing, body parsing and limits) by code; `message` replaces one that would echo the URL. */
const FASTIFY_ERRORS: Record<string, Pick<Failure, 'kind' | 'status' | 'code'> & { message?: string }> = {
  FST_ERR_BAD_URL: { kind: 'invalid', status: 400, code: 'invalid_url', message: 'The URL is not valid: a percent-encoded part of its path does not decode.' },
  FST_ERR_MAX_PARAM_LENGTH: { kind: 'invalid', status: 414, code: 'uri_too_long', message: `A part of the URL's path is longer than the limit.` },
  FST_ERR_CTP_BODY_TOO_LARGE: { kind: 'too_large', status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { kind: 'unsupported_media_type', status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { kind: 'invalid', status: 400, code: 'invalid_request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { kind: 'invalid', status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { kind: 'invalid', status: 400, code: 'invalid_json' },
};

const SERVICE_ERRORS: Record<EpisodeServiceError['code'], Pick<Failure, 'kind' | 'status'>> = {
  not_found: { kind: 'not_found', status: 404 },
  conflict: { kind: 'conflict', status: 409 },
  in_progress: { kind: 'in_progress', status: 409 },
  episode_busy: { kind: 'in_progress', status: 409 },
  invalid_request: { kind: 'invalid', status: 400 },
  episode_quota_exceeded: { kind: 'quota_exceeded', status: 429 },
  training_busy: { kind: 'unavailable', status: 503 },
  step_failed: { kind: 'step_failed', status: 500 },
};

export function classifyFailure(error: unknown, bodyLimit?: number): Failure {
  if (error instanceof HttpError) {
    const kind: Failure['kind'] =
      error.statusCode === 404 ? 'not_found' : error.statusCode === 409 ? 'conflict' : error.statusCode >= 500 ? 'internal' : 'invalid';
    return { kind, status: error.statusCode, code: error.code, message: error.message, details: error.details };
  }
  if (error instanceof TenantError) {
    const kind = error.statusCode === 400 ? 'invalid' : 'unauthorized';
    return { kind, status: error.statusCode, code: error.statusCode === 400 ? 'invalid_tenant' : 'unauthorized', message: error.message, details: {} };
  }
  if (error instanceof EpisodeServiceError) {
    const mapped = SERVICE_ERRORS[error.code] ?? { kind: 'internal', status: 500 };
    // A refusal that carries the core's reason (unknown_task, invalid_arguments) is reported under that code.
    const { code: coreCode, message: _message, ...details } = error.details as { code?: unknown; message?: unknown };
    const code = error.code === 'invalid_request' && typeof coreCode === 'string' ? coreCode : error.code;
    return { ...mapped, code, message: error.message, details: code === error.code ? error.details : details };
  }
  if (error instanceof CoreError) {
    // The core rejects what callers send (unknown task, bad seed); its other errors are faults here.
    if (error.code === 'unknown_task' || error.code === 'invalid_arguments' || error.code === 'unknown_tool') {
      return { kind: 'invalid', status: 400, code: error.code, message: error.message, details: { ...error.detail } };
    }
  }
  if (error instanceof DatasetUnavailableError) {
    // 503, not 424: the server is missing its own data (not the client's fault, no failed request of theirs), and a later retry may work.
    return { kind: 'unavailable', status: 503, code: error.code, message: error.message, details: { ...error.detail } };
  }
  const fastifyCode = (error as { code?: unknown } | null)?.code;
  if (typeof fastifyCode === 'string' && FASTIFY_ERRORS[fastifyCode]) {
    const { message: fixedMessage, ...mapped } = FASTIFY_ERRORS[fastifyCode];
    const message =
      fixedMessage !== undefined
        ? fixedMessage
        : mapped.code === 'payload_too_large' && bodyLimit !== undefined
        ? `Request body is larger than the limit of ${bodyLimit} bytes.`
        : mapped.code === 'unsupported_media_type'
          ? 'Unsupported Content-Type: send the body as application/json.'
          : (error as Error).message;
    return { ...mapped, message, details: {} };
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { kind: 'invalid', status, code: 'invalid_request', message: (error as Error).message, details: {} };
  }
  return { kind: 'internal', status: 500, code: 'internal_error', message: INTERNAL_MESSAGE, details: {} };
}

/** Seconds before retrying a request refused because the episode is busy or changed under it (409). */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * The 409s that the same request, sent again a moment later, can get past: the episode was
 * busy or changed under it. Other 409s are final for that request (a tool call the episode
 * rejected is a committed step; `no_episode` needs a reset first), so they carry no Retry-After.
 */
const RETRYABLE_CONFLICTS = new Set(['episode_busy', 'in_progress', 'conflict']);

/**
 * The Retry-After every interface sends with a refusal that waiting can resolve: a 429 quota
 * refusal once the quota resets (any other 429 after a moment); a 409 of a busy or changed
 * episode after a moment (re-read the episode, then retry); a 503 dataset_unavailable once the
 * server tries the download again. Undefined for everything else.
 */
export function retryAfterSeconds(failure: Pick<Failure, 'status' | 'code' | 'details'>, now: Date): number | undefined {
  const secondsUntil = (iso: unknown) => {
    const at = Date.parse(String(iso));
    return Number.isFinite(at) ? Math.max(1, Math.ceil((at - now.getTime()) / 1000)) : undefined;
  };
  if (failure.status === 503) return secondsUntil(failure.details.next_attempt_at);
  if (failure.status === 429) return secondsUntil(failure.details.resets_at) ?? BUSY_RETRY_AFTER_SECONDS;
  if (failure.status === 409 && RETRYABLE_CONFLICTS.has(failure.code)) return BUSY_RETRY_AFTER_SECONDS;
  return undefined;
}

/** Sets Retry-After on an answer to `failure` where waiting helps (retryAfterSeconds). */
export function setRetryAfter(reply: { header(name: string, value: string): unknown }, failure: Pick<Failure, 'status' | 'code' | 'details'>, now: Date = new Date()): void {
  const seconds = retryAfterSeconds(failure, now);
  if (seconds !== undefined) reply.header('retry-after', String(seconds));
}
