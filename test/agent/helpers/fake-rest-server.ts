import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildObservation, CoreError, createEpisode, describeTools, executeStep, type EpisodeRecord, type Trainer } from '../../../layers/core/src';
import { formulaTrainerFactory } from '../../../layers/testing/src';
import { stepView } from '../../../layers/episodes/src/episode-service';

export interface LoggedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
}

/** Make the next matching requests fail: before executing (nothing happened) or after (the answer was lost). */
export interface InjectedFault {
  path: RegExp;
  status: number;
  times: number;
  /** Execute the step, then answer the error anyway (a lost response). */
  afterExecute?: boolean;
  body?: unknown;
}

/**
 * Steps answered as the cloud API answers a long one: 202 `{step_id, status, poll, requested_at,
 * deadline_at}` (+ Location, Retry-After), then `pendingPolls` polls answered 202 "running",
 * then 200 with the step view, or `fail` (the step is then not executed: nothing committed).
 */
export interface AsyncSteps {
  tool: RegExp;
  pendingPolls: number;
  /** The Retry-After header (seconds); none when undefined. */
  retryAfter?: string;
  /** The deadline_at of the 202 answers; default an hour from now. */
  deadlineAt?: string;
  fail?: { status: number; body: unknown };
}

interface PendingStep {
  episodeId: string;
  remaining: number;
  view?: Record<string, unknown>;
  fail?: { status: number; body: unknown };
  requestedAt: string;
  deadlineAt: string;
  retryAfter?: string;
}

interface Episode {
  record: EpisodeRecord;
  trainer: Trainer;
  version: number;
  results: Map<string, Record<string, unknown>>;
}

/**
 * The REST routes of the local server, just enough for the agent's client: the core with
 * the formula trainer, episodes in memory, request_id replay, and injectable faults.
 */
export class FakeRestServer {
  readonly requests: LoggedRequest[] = [];
  readonly faults: InjectedFault[] = [];
  /** Steps actually executed (replays excluded). */
  executed = 0;
  /** When set, matching steps are answered asynchronously (202, then polls). */
  asyncSteps: AsyncSteps | null = null;
  private readonly pending = new Map<string, PendingStep>();
  private readonly episodes = new Map<string, Episode>();
  private server: Server | null = null;
  private counter = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const e of this.episodes.values()) e.trainer.dispose();
  }

  record(id: string): EpisodeRecord | undefined {
    return this.episodes.get(id)?.record;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path, headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const fault = this.faults.find((f) => f.times > 0 && f.path.test(`${req.method} ${path}`));
    if (fault && !fault.afterExecute) {
      fault.times -= 1;
      return send(fault.status, fault.body ?? { error: { code: 'unavailable', message: 'injected fault', details: {} } });
    }
    try {
      const { status, payload, headers } = await this.route(req.method ?? 'GET', path, body);
      if (fault?.afterExecute) {
        fault.times -= 1;
        return send(fault.status, fault.body ?? { error: { code: 'internal', message: 'injected fault after executing', details: {} } });
      }
      send(status, payload, headers);
    } catch (e) {
      if (e instanceof CoreError) return send(400, { error: { code: e.code, message: e.message, details: e.detail } });
      send(500, { error: { code: 'internal', message: String(e), details: {} } });
    }
  }

  private pendingAnswer(stepId: string, step: PendingStep, status: 'pending' | 'running'): { status: number; payload: unknown; headers: Record<string, string> } {
    const poll = `/v1/episodes/${encodeURIComponent(step.episodeId)}/steps/${encodeURIComponent(stepId)}`;
    return {
      status: 202,
      payload: { step_id: stepId, status, poll, requested_at: step.requestedAt, deadline_at: step.deadlineAt },
      headers: { location: poll, ...(step.retryAfter !== undefined ? { 'retry-after': step.retryAfter } : {}) },
    };
  }

  private async route(method: string, path: string, body: unknown): Promise<{ status: number; payload: unknown; headers?: Record<string, string> }> {
    if (method === 'GET' && path === '/v1/tools') return { status: 200, payload: { tools: describeTools() } };
    const polled = /^\/v1\/episodes\/([^/]+)\/steps\/([^/]+)$/.exec(path);
    if (polled && method === 'GET') {
      const stepId = decodeURIComponent(polled[2]);
      const step = this.pending.get(stepId);
      if (!step || step.episodeId !== decodeURIComponent(polled[1])) {
        return { status: 404, payload: { error: { code: 'not_found', message: `No step ${JSON.stringify(stepId)}.`, details: {} } } };
      }
      if (step.remaining > 0) {
        step.remaining -= 1;
        return this.pendingAnswer(stepId, step, 'running');
      }
      if (step.fail) return { status: step.fail.status, payload: step.fail.body };
      return { status: 200, payload: step.view };
    }
    if (method === 'POST' && path === '/v1/episodes') {
      const { task_id, seed } = (body ?? {}) as { task_id?: string; seed?: number };
      const record = createEpisode(String(task_id), seed);
      const id = `ep-${++this.counter}`;
      const trainer = await formulaTrainerFactory.create({ taskId: record.task_id, seed: record.seed });
      this.episodes.set(id, { record, trainer, version: 0, results: new Map() });
      return { status: 201, payload: { episode_id: id, task_id: record.task_id, seed: record.seed, status: record.status, version: 0, record } };
    }
    const match = /^\/v1\/episodes\/([^/]+)(\/steps)?$/.exec(path);
    const episode = match ? this.episodes.get(decodeURIComponent(match[1])) : undefined;
    if (match && !episode) return { status: 404, payload: { error: { code: 'not_found', message: `No episode ${match[1]}.`, details: {} } } };
    if (match && episode && method === 'GET' && !match[2]) {
      return { status: 200, payload: { episode_id: match[1], record: episode.record, observation: buildObservation(episode.record) } };
    }
    if (match && episode && method === 'POST' && match[2]) {
      const { tool, arguments: args, request_id } = (body ?? {}) as { tool?: unknown; arguments?: unknown; request_id?: string };
      if (typeof tool !== 'string' || (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))) {
        return { status: 400, payload: { error: { code: 'validation_error', message: 'tool must be a string and arguments an object', details: {} } } };
      }
      if (request_id !== undefined && episode.results.has(request_id)) {
        return { status: 200, payload: { ...episode.results.get(request_id), replayed: true } };
      }
      const async = this.asyncSteps;
      if (async && async.tool.test(tool) && request_id !== undefined) {
        const step: PendingStep = {
          episodeId: match[1],
          remaining: async.pendingPolls,
          requestedAt: new Date().toISOString(),
          deadlineAt: async.deadlineAt ?? new Date(Date.now() + 3_600_000).toISOString(),
          ...(async.retryAfter !== undefined ? { retryAfter: async.retryAfter } : {}),
          ...(async.fail ? { fail: async.fail } : {}),
        };
        if (!async.fail) step.view = await this.execute(episode, match[1], tool, args, request_id);
        this.pending.set(request_id, step);
        return this.pendingAnswer(request_id, step, 'pending');
      }
      return { status: 200, payload: await this.execute(episode, match[1], tool, args, request_id) };
    }
    return { status: 404, payload: { error: { code: 'not_found', message: `No route ${method} ${path}.`, details: {} } } };
  }

  private async execute(episode: Episode, episodeId: string, tool: string, args: unknown, request_id: string | undefined): Promise<Record<string, unknown>> {
    const result = await executeStep(episode.record, { tool, arguments: args }, episode.trainer);
    this.executed += 1;
    episode.record = result.record;
    episode.version += 1;
    const view: Record<string, unknown> = { ...stepView(episodeId, episode.version, result) };
    if (request_id !== undefined) episode.results.set(request_id, view);
    return view;
  }
}
