import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildObservation, CoreError, createEpisode, describeTools, executeStep, type EpisodeRecord, type Trainer } from '../../../layers/core/src';
import { formulaTrainerFactory } from '../../../layers/core/src/testing/formula-trainer';

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
    const send = (status: number, payload: unknown) => {
      this.requests.push({ method: req.method ?? '', path, headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const fault = this.faults.find((f) => f.times > 0 && f.path.test(`${req.method} ${path}`));
    if (fault && !fault.afterExecute) {
      fault.times -= 1;
      return send(fault.status, fault.body ?? { error: { code: 'unavailable', message: 'injected fault', details: {} } });
    }
    try {
      const { status, payload } = await this.route(req.method ?? 'GET', path, body);
      if (fault?.afterExecute) {
        fault.times -= 1;
        return send(fault.status, fault.body ?? { error: { code: 'internal', message: 'injected fault after executing', details: {} } });
      }
      send(status, payload);
    } catch (e) {
      if (e instanceof CoreError) return send(400, { error: { code: e.code, message: e.message, details: e.detail } });
      send(500, { error: { code: 'internal', message: String(e), details: {} } });
    }
  }

  private async route(method: string, path: string, body: unknown): Promise<{ status: number; payload: unknown }> {
    if (method === 'GET' && path === '/v1/tools') return { status: 200, payload: { tools: describeTools() } };
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
      const result = await executeStep(episode.record, { tool, arguments: args }, episode.trainer);
      this.executed += 1;
      episode.record = result.record;
      episode.version += 1;
      const view = {
        episode_id: match[1],
        version: episode.version,
        step: result.record.step_count,
        tool: result.tool,
        data: result.data,
        error: result.error,
        reward: result.reward,
        done: result.done,
        grade: result.grade,
        replayed: false,
      };
      if (request_id !== undefined) episode.results.set(request_id, view);
      return { status: 200, payload: view };
    }
    return { status: 404, payload: { error: { code: 'not_found', message: `No route ${method} ${path}.`, details: {} } } };
  }
}
