import { randomUUID } from 'node:crypto';
import {
  boundedReason,
  buildObservation,
  createEpisode,
  parseEpisodeRecord,
  parseStepProgress,
  stepStatusPath,
  type AgentLabel,
  type EpisodeRecord,
  type Observation,
  type StepProgress,
  type ToolDescription,
} from '../../core/src';
import { AgentEnvironmentError, type AgentEnvironment, type CallOptions, type EpisodeSession, type TaskInfo, type ToolError, type ToolOutcome } from './environment';
import { unreachableMessage, unreachableServer } from './server-unreachable';
import { EpochReporter, watchStep, type StepStatusPeek } from './step-progress-watch';
import { knownTaskInfo } from './task-info';

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  attempts: number;
  /** Delay before the first retry; doubled every retry (with up to 25% jitter) up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface RestEnvironmentOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8787 (a path prefix is kept). */
  url: string;
  /** Sent as x-api-key. */
  apiKey?: string;
  /** Sent as x-tenant-id. */
  tenantId?: string;
  retry?: Partial<RetryPolicy>;
  /**
   * How long a step may keep answering "in progress" (its request is still executing,
   * e.g. after a retry that followed a timeout) before giving up. Default 30 minutes.
   */
  inProgressTimeoutMs?: number;
  /** Per-attempt timeout; none by default (training 20 epochs can take minutes). */
  requestTimeoutMs?: number;
  /**
   * The longest a step answered asynchronously (202) is polled, from its request; default
   * 90 minutes. Polling also stops at the step's `deadline_at` plus pollDeadlineMarginMs.
   */
  asyncStepTimeoutMs?: number;
  /** Polling goes on this long past the server's `deadline_at` (clock skew, the last poll); default 60 s. */
  pollDeadlineMarginMs?: number;
  /** The first poll interval when the server sends no Retry-After; doubled after each poll up to maxPollIntervalMs. Default 1 s. */
  pollIntervalMs?: number;
  /** The longest wait between two polls, whatever Retry-After says; default 30 s. */
  maxPollIntervalMs?: number;
  /**
   * While a step's request is in flight and the caller wants its epochs (CallOptions.onEpoch),
   * its status (GET /v1/episodes/{id}/steps/{step_id}) is polled this often for the epochs
   * done so far; default 1.5 s; 0: never. A server without the route is not asked again.
   */
  progressPollIntervalMs?: number;
  /**
   * How to do without the server, for the message when the first contact finds none
   * (nothing listens, unknown host, no answer); default "play in-process without --url"; null: none.
   */
  unreachableAlternative?: string | null;
  /** Injected for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  newRequestId?: () => string;
  /** Told about every retry (for progress output). */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; requestId?: string }) => void;
  /** Told when a step is answered asynchronously and after every poll that finds it still pending or running. */
  onPending?: (info: PendingInfo) => void;
}

/** A step the server runs asynchronously, as the client waits for it. */
export interface PendingInfo {
  /** The step number the call is expected to be (the last one seen + 1). */
  step: number;
  tool: string;
  /** The server's id of the step (its request_id). */
  step_id: string;
  status: 'pending' | 'running';
  /** Since the step was requested (this client's clock). */
  elapsedMs: number;
  /** The server's deadline for the step (ISO 8601), when it gave one. */
  deadline_at: string | null;
  /** The path polled. */
  poll: string;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 250, maxDelayMs: 8000 };
const DEFAULT_IN_PROGRESS_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_ASYNC_STEP_TIMEOUT_MS = 90 * 60 * 1000;
const DEFAULT_POLL_DEADLINE_MARGIN_MS = 60 * 1000;
const DEFAULT_POLL_INTERVAL_MS = 1000;
const DEFAULT_MAX_POLL_INTERVAL_MS = 30 * 1000;
const DEFAULT_PROGRESS_POLL_INTERVAL_MS = 1500;
/** Status answers in a row that do not know a synchronous step before its watch stops (the cloud records only its asynchronous steps). */
const MAX_UNKNOWN_STEP_ANSWERS = 3;

interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Reused by every attempt: the server runs the step at most once. */
  requestId?: string;
  /** Error codes that end the request at once, even on a 5xx (a poll's `step_failed`: the step is over). */
  finalErrorCodes?: readonly string[];
}

/** A 2xx answer (or a rejected call's committed step), with what polling needs. */
export interface RestAnswer {
  status: number;
  body: unknown;
  retryAfterMs?: number;
  location?: string;
}

type Attempt = ({ kind: 'ok' } & RestAnswer) | { kind: 'retry'; reason: string; inProgress: boolean; retryAfterMs?: number; status?: number; errorCode?: string };

/** The 202 answer of a step that runs asynchronously (the cloud API). */
interface PendingAnswer {
  step_id: string;
  status: 'pending' | 'running';
  poll: string;
  deadline_at: string | null;
  progress?: StepProgress;
}

/**
 * The REST API of the local server and the cloud, as an AgentEnvironment:
 * POST /v1/episodes, POST /v1/episodes/:id/steps, GET /v1/tools.
 * Network errors, 5xx, 429 and "in progress" answers are retried with backoff; a step
 * carries one request_id over all its attempts, so a retry never trains twice.
 * A 4xx is an AgentEnvironmentError('rejected') with the server's code and message.
 * A step answered 202 (the cloud runs it asynchronously) is polled at its `poll` path until
 * it is done (200: the step), failed (an error naming the step) or past its deadline.
 * A caller that wants a step's epochs (onEpoch) gets each once, as they finish: from the
 * polls' `progress`, and for a step answered within its request from polling its status
 * while the request is in flight.
 */
export class RestEnvironment implements AgentEnvironment {
  readonly description: string;
  private readonly base: string;
  private readonly retry: RetryPolicy;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly newRequestId: () => string;
  private readonly now: () => number;
  /** Cleared for good once the server shows it has no step status route. */
  private statusRouteAvailable = true;
  /** Set at the first answer: from then on a refused connection is a server restarting, worth retrying. */
  private answered = false;

  constructor(private readonly options: RestEnvironmentOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new AgentEnvironmentError('rejected', `not a valid server URL: ${JSON.stringify(options.url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new AgentEnvironmentError('rejected', `the server URL must be http or https, got ${JSON.stringify(options.url)}`);
    }
    this.base = parsed.toString().replace(/\/+$/, '');
    this.description = this.base;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.newRequestId = options.newRequestId ?? randomUUID;
    this.now = options.now ?? Date.now;
  }

  async listTools(): Promise<ToolDescription[]> {
    const body = await this.request({ method: 'GET', path: '/v1/tools' });
    const list = Array.isArray(body) ? body : (body as { tools?: unknown } | null)?.tools;
    if (!Array.isArray(list) || !list.every((t) => typeof t?.name === 'string' && typeof t?.input_schema === 'object')) {
      throw new AgentEnvironmentError('bad_response', `GET /v1/tools: expected a list of {name, description, input_schema}`);
    }
    return list as ToolDescription[];
  }

  async startEpisode(input: { taskId: string; seed?: number; agent?: AgentLabel }): Promise<EpisodeSession> {
    const payload: Record<string, unknown> = { task_id: input.taskId };
    if (input.seed !== undefined) payload.seed = input.seed;
    if (input.agent !== undefined) payload.agent = input.agent;
    // Creating is not idempotent: a retry after a lost answer may leave an unused episode behind.
    const body = (await this.request({ method: 'POST', path: '/v1/episodes', body: payload, finalErrorCodes: ['episode_quota_exceeded'] })) as Record<string, unknown> | null;
    const episodeId = body?.episode_id;
    if (typeof episodeId !== 'string' || episodeId.length === 0) {
      throw new AgentEnvironmentError('bad_response', 'POST /v1/episodes: the answer has no episode_id');
    }
    const record = (body!.record ?? null) as EpisodeRecord | null;
    const taskId = typeof body!.task_id === 'string' ? body!.task_id : (record?.task_id ?? input.taskId);
    const seed = typeof body!.seed === 'number' ? body!.seed : (record?.seed ?? input.seed ?? 0);
    return new RestSession(this, episodeId, taskInfoFrom(body!, taskId), seed, record);
  }

  /** One API call with retries; returns the parsed JSON body of a 2xx answer. */
  async request(spec: RequestSpec): Promise<unknown> {
    return (await this.send(spec)).body;
  }

  /** One API call with retries; returns a 2xx answer (status, body, Retry-After, Location). */
  async send(spec: RequestSpec): Promise<RestAnswer> {
    const started = this.now();
    let delay = this.retry.initialDelayMs;
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(spec);
      if (outcome.kind === 'ok') {
        const { kind: _kind, ...answer } = outcome;
        return answer;
      }
      // "In progress" means the step is executing: wait for it as long as inProgressTimeoutMs allows.
      if (!outcome.inProgress) failures += 1;
      const inProgressExpired = this.now() - started > (this.options.inProgressTimeoutMs ?? DEFAULT_IN_PROGRESS_TIMEOUT_MS);
      if (failures >= this.retry.attempts || (outcome.inProgress && inProgressExpired)) {
        const where = outcome.status === undefined ? ` at ${this.base}` : '';
        throw new AgentEnvironmentError(
          'unavailable',
          `${spec.method} ${spec.path}${where} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${outcome.reason}`,
          { attempts: attempt, ...(outcome.status === undefined ? {} : { status: outcome.status }), ...(outcome.errorCode === undefined ? {} : { errorCode: outcome.errorCode }) },
        );
      }
      const jittered = Math.round(delay * (1 + Math.random() * 0.25));
      const wait = Math.min(this.retry.maxDelayMs, Math.max(outcome.retryAfterMs ?? 0, jittered));
      this.options.onRetry?.({ attempt, delayMs: wait, reason: outcome.reason, requestId: spec.requestId });
      await this.sleep(wait);
      delay = Math.min(this.retry.maxDelayMs, delay * 2);
    }
  }

  private headers(withBody: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (withBody) headers['content-type'] = 'application/json';
    if (this.options.apiKey !== undefined) headers['x-api-key'] = this.options.apiKey;
    if (this.options.tenantId !== undefined) headers['x-tenant-id'] = this.options.tenantId;
    return headers;
  }

  private async attempt(spec: RequestSpec): Promise<Attempt> {
    const headers = this.headers(spec.body !== undefined);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(`${this.base}${spec.path}`, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: this.options.requestTimeoutMs === undefined ? undefined : AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      this.answered = true;
      text = await response.text();
    } catch (e) {
      const unreachable = this.answered ? null : unreachableServer(this.base, e);
      if (unreachable !== null) {
        const alternative = this.options.unreachableAlternative === undefined ? 'play in-process without --url' : this.options.unreachableAlternative;
        throw new AgentEnvironmentError('unavailable', `${spec.method} ${spec.path}: ${unreachableMessage(unreachable, alternative)}`, { attempts: 1 });
      }
      return { kind: 'retry', reason: `network error: ${describeNetworkError(e)}`, inProgress: false };
    }
    const body = parseJson(text);
    if (response.ok) {
      if (body === undefined) {
        throw new AgentEnvironmentError('bad_response', `${spec.method} ${spec.path}: HTTP ${response.status} with a body that is not JSON`, {
          status: response.status,
        });
      }
      const answer: Attempt = { kind: 'ok', status: response.status, body };
      const retryAfter = retryAfterMs(response.headers.get('retry-after'));
      if (retryAfter !== undefined) answer.retryAfterMs = retryAfter;
      const location = response.headers.get('location');
      if (location) answer.location = location;
      return answer;
    }
    const apiError = errorOf(body);
    if (apiError && spec.finalErrorCodes?.includes(apiError.code)) {
      throw new AgentEnvironmentError('unavailable', `${spec.method} ${spec.path}: HTTP ${response.status} ${apiError.code}: ${apiError.message}`, {
        status: response.status,
        errorCode: apiError.code,
        details: apiError.details,
      });
    }
    if (apiError?.code === 'in_progress') {
      return { kind: 'retry', reason: `the request is still executing (${apiError.message})`, inProgress: true, status: response.status, errorCode: apiError.code };
    }
    if (apiError !== null && isLostLease(apiError)) {
      // The server stopped the step before it committed and says the same request_id is safe to send again.
      return { kind: 'retry', reason: `the server lost the step's lease while it ran (${apiError.message})`, inProgress: false, status: response.status, errorCode: apiError.code };
    }
    if (response.status >= 500 || response.status === 429) {
      return {
        kind: 'retry',
        reason: `HTTP ${response.status}${apiError ? ` ${apiError.code}: ${apiError.message}` : ''}`,
        inProgress: false,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
        status: response.status,
        ...(apiError ? { errorCode: apiError.code } : {}),
      };
    }
    // A tool call the environment rejected is still a committed step: the server says so with a 4xx carrying it.
    const rejectedStep = (apiError?.details as { step?: unknown } | undefined)?.step;
    if (response.status >= 400 && typeof rejectedStep === 'object' && rejectedStep !== null) {
      return { kind: 'ok', status: response.status, body: rejectedStep };
    }
    if (response.status >= 400) {
      const what = apiError ? `${apiError.code}: ${apiError.message}` : text.slice(0, 200) || response.statusText;
      throw new AgentEnvironmentError('rejected', `${spec.method} ${spec.path}: HTTP ${response.status} ${what}`, {
        status: response.status,
        errorCode: apiError?.code,
        details: apiError?.details,
      });
    }
    throw new AgentEnvironmentError('bad_response', `${spec.method} ${spec.path}: unexpected HTTP ${response.status}`, {
      status: response.status,
    });
  }

  /**
   * Polls the status of a step whose request is in flight, reporting its epochs, until
   * stop(); null when there is nothing to poll (no interval, or a server without the route).
   */
  watchStep(poll: string, reporter: EpochReporter): { stop(): Promise<void> } | null {
    const intervalMs = this.options.progressPollIntervalMs ?? DEFAULT_PROGRESS_POLL_INTERVAL_MS;
    if (intervalMs <= 0 || !this.statusRouteAvailable) return null;
    return watchStep((signal) => this.peekStep(poll, signal), reporter, {
      intervalMs,
      maxUnknown: MAX_UNKNOWN_STEP_ANSWERS,
      onUnsupported: () => {
        this.statusRouteAvailable = false;
      },
    });
  }

  /** One look at a step's status (no retries: the next look is the retry). */
  private async peekStep(poll: string, signal: AbortSignal): Promise<StepStatusPeek> {
    const response = await this.fetchImpl(`${this.base}${poll}`, { method: 'GET', headers: this.headers(false), signal });
    const body = parseJson(await response.text());
    if (response.status === 202) {
      const progress = parseStepProgress((body as { progress?: unknown } | undefined)?.progress);
      return progress === undefined ? { kind: 'running' } : { kind: 'running', progress };
    }
    const apiError = errorOf(body);
    if (response.status === 404 && apiError !== null && (apiError.details as { step_id?: unknown } | undefined)?.step_id !== undefined) {
      return { kind: 'unknown_step' };
    }
    // No such route: an older server (404 without a step, 405, 501), or a gateway that only knows its own routes (403).
    if ([403, 404, 405, 501].includes(response.status)) return { kind: 'unsupported' };
    return { kind: 'nothing' };
  }

  /** A fresh request_id for one step. */
  requestId(): string {
    return this.newRequestId();
  }

  /** This client's clock (injectable for tests). */
  clock(): number {
    return this.now();
  }

  /**
   * Polls a step the server answered with 202 until it is done; returns the step's body.
   * Waits what Retry-After says, else a backoff from pollIntervalMs; stops at the step's
   * deadline_at plus a margin, or asyncStepTimeoutMs after the request, whichever is first.
   */
  async waitForStep(
    accepted: RestAnswer,
    step: { episodeId: string; step: number; tool: string; requestedAt: number; epochs?: EpochReporter },
  ): Promise<unknown> {
    let pending = pendingOf(accepted, step.episodeId);
    step.epochs?.report(pending.progress);
    const label = `step ${step.step} ${step.tool} (step_id ${pending.step_id})`;
    const margin = this.options.pollDeadlineMarginMs ?? DEFAULT_POLL_DEADLINE_MARGIN_MS;
    const overall = step.requestedAt + (this.options.asyncStepTimeoutMs ?? DEFAULT_ASYNC_STEP_TIMEOUT_MS);
    const maxInterval = this.options.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS;
    let interval = this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    let retryAfter = accepted.retryAfterMs;
    for (;;) {
      const now = this.now();
      this.options.onPending?.({
        step: step.step,
        tool: step.tool,
        step_id: pending.step_id,
        status: pending.status,
        elapsedMs: now - step.requestedAt,
        deadline_at: pending.deadline_at,
        poll: pending.poll,
      });
      const deadline = pending.deadline_at === null ? NaN : Date.parse(pending.deadline_at);
      const limit = Math.min(overall, Number.isFinite(deadline) ? deadline + margin : Infinity);
      if (now >= limit) {
        const seconds = Math.round((now - step.requestedAt) / 1000);
        throw new AgentEnvironmentError(
          'unavailable',
          `${label}: no result after ${seconds} s (${pending.status} on the server${pending.deadline_at ? `, deadline ${pending.deadline_at}` : ''}); ` +
            `gave up polling ${pending.poll}. The step may still complete on the server.`,
          { details: { step_id: pending.step_id, poll: pending.poll, status: pending.status } },
        );
      }
      const wait = Math.min(maxInterval, retryAfter ?? Math.round(interval * (1 + Math.random() * 0.25)), limit - now);
      await this.sleep(Math.max(0, wait));
      interval = Math.min(maxInterval, interval * 2);
      let answer: RestAnswer;
      try {
        answer = await this.send({ method: 'GET', path: pending.poll, finalErrorCodes: ['step_failed'] });
      } catch (e) {
        if (!(e instanceof AgentEnvironmentError)) throw e;
        const failed = e.info.errorCode === 'step_failed';
        const reason = (e.info.details as { reason?: unknown } | undefined)?.reason;
        throw new AgentEnvironmentError(
          e.code,
          failed
            ? `${label} failed on the server${typeof reason === 'string' ? ` (${reason})` : ''}: ${e.message}`
            : `${label}: polling failed: ${e.message}`,
          e.info,
        );
      }
      if (answer.status !== 202) return answer.body;
      const next = pendingOf(answer, step.episodeId);
      if (next.step_id !== pending.step_id) {
        throw new AgentEnvironmentError('bad_response', `${label}: the poll answered for another step (${JSON.stringify(next.step_id)})`);
      }
      pending = next;
      step.epochs?.report(pending.progress);
      retryAfter = answer.retryAfterMs;
    }
  }
}

class RestSession implements EpisodeSession {
  readonly maxSteps: number;
  readonly initialObservation: Observation;
  private lastStep = 0;

  constructor(
    private readonly env: RestEnvironment,
    readonly episodeId: string,
    readonly task: TaskInfo,
    readonly seed: number,
    record: EpisodeRecord | null,
  ) {
    this.maxSteps = record?.max_steps ?? 15;
    this.initialObservation = initialObservationOf(record, task.task_id, seed);
  }

  async call(tool: string, args?: unknown, options: CallOptions = {}): Promise<ToolOutcome> {
    const requestId = this.env.requestId();
    const path = `/v1/episodes/${encodeURIComponent(this.episodeId)}/steps`;
    const requestedAt = this.env.clock();
    const reason = boundedReason(options.reason);
    const epochs = options.onEpoch === undefined ? undefined : new EpochReporter(options.onEpoch);
    // While the request is in flight, its step's status shows the epochs done so far.
    const watch = epochs === undefined ? null : this.env.watchStep(stepStatusPath(this.episodeId, requestId), epochs);
    let answer: RestAnswer;
    try {
      answer = await this.env.send({
        method: 'POST',
        path,
        body: { tool, arguments: args ?? {}, request_id: requestId, ...(reason === undefined ? {} : { reason }) },
        requestId,
      });
    } finally {
      await watch?.stop();
    }
    // 202: the server runs the step asynchronously; poll it until it is done.
    const body = (
      answer.status === 202
        ? await this.env.waitForStep(answer, { episodeId: this.episodeId, step: this.lastStep + 1, tool, requestedAt, ...(epochs ? { epochs } : {}) })
        : answer.body
    ) as Record<string, unknown> | null;
    if (body === null || typeof body !== 'object' || typeof body.data !== 'object' || typeof body.done !== 'boolean') {
      throw new AgentEnvironmentError('bad_response', `POST ${path}: expected {step, tool, data, error, reward, done, grade}`);
    }
    const step = typeof body.step === 'number' ? body.step : this.lastStep + 1;
    this.lastStep = step;
    return {
      step,
      tool: typeof body.tool === 'string' ? body.tool : tool,
      data: (body.data ?? {}) as Record<string, unknown>,
      error: (body.error ?? null) as ToolError | null,
      reward: typeof body.reward === 'number' ? body.reward : 0,
      done: body.done,
      grade: (body.grade ?? null) as ToolOutcome['grade'],
      replayed: body.replayed === true,
    };
  }

  async readRecord(): Promise<EpisodeRecord> {
    const path = `/v1/episodes/${encodeURIComponent(this.episodeId)}`;
    const body = (await this.env.request({ method: 'GET', path })) as { record?: unknown } | null;
    try {
      return parseEpisodeRecord(body?.record);
    } catch (e) {
      throw new AgentEnvironmentError('bad_response', `GET ${path}: the answer's record is not an episode record (${(e as Error).message})`);
    }
  }

  async close(): Promise<void> {}
}

function taskInfoFrom(body: Record<string, unknown>, taskId: string): TaskInfo {
  const served = body.task as Partial<TaskInfo> | undefined;
  const known = knownTaskInfo(taskId);
  if (known) return { ...known, ...(served && typeof served === 'object' ? served : {}) };
  if (served && typeof served === 'object' && typeof served.max_epochs === 'number') {
    return { name: taskId, description: '', difficulty: 'medium', target_value: 0, min_score_accuracy: 0, max_score_accuracy: 1, ...served, task_id: taskId } as TaskInfo;
  }
  throw new AgentEnvironmentError('bad_response', `the server started an episode of task ${JSON.stringify(taskId)}, which this client does not know`);
}

function initialObservationOf(record: EpisodeRecord | null, taskId: string, seed: number): Observation {
  try {
    if (record) return buildObservation(record);
  } catch {
    // An unexpected record shape: fall through to the observation of a fresh episode.
  }
  return buildObservation(createEpisode(taskId, seed));
}

/** The 202 answer's step: `{step_id, status, poll, deadline_at}` (the poll path may also come from Location). */
function pendingOf(answer: RestAnswer, episodeId: string): PendingAnswer {
  const body = answer.body as Record<string, unknown> | null;
  const stepId = body?.step_id;
  if (body === null || typeof body !== 'object' || typeof stepId !== 'string' || stepId === '') {
    throw new AgentEnvironmentError('bad_response', `HTTP 202 without a step to poll: expected {step_id, status, poll, deadline_at}`, { status: 202 });
  }
  // Only a path on the same server is polled (the API key goes with it): the body's poll, else Location, else the documented path.
  const relative = (value: unknown): value is string => typeof value === 'string' && value.startsWith('/') && !value.startsWith('//');
  const poll = relative(body.poll)
    ? body.poll
    : relative(answer.location)
      ? answer.location
      : stepStatusPath(episodeId, stepId);
  const progress = parseStepProgress(body.progress);
  return {
    step_id: stepId,
    status: body.status === 'running' ? 'running' : 'pending',
    poll,
    deadline_at: typeof body.deadline_at === 'string' ? body.deadline_at : null,
    ...(progress === undefined ? {} : { progress }),
  };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(body: unknown): { code: string; message: string; details?: unknown } | null {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  if (error === null || typeof error !== 'object') return null;
  const { code, message, details } = error as Record<string, unknown>;
  return { code: typeof code === 'string' ? code : 'unknown', message: typeof message === 'string' ? message : '', details };
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(e: unknown): string {
  const error = e as { message?: string; cause?: { code?: string; message?: string }; name?: string };
  if (error?.name === 'TimeoutError') return 'timed out';
  const cause = error?.cause?.code ?? error?.cause?.message;
  return cause ? `${error.message ?? 'fetch failed'} (${cause})` : (error?.message ?? String(e));
}

/** A step the server abandoned uncommitted because its lease lapsed (lease-heartbeat.ts): nothing ran to the end, so it is retried. */
function isLostLease(error: { code: string; details?: unknown }): boolean {
  return error.code === 'conflict' && (error.details as { reason?: unknown } | undefined)?.reason === 'lease_lost';
}
