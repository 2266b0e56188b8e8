import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { formulaTrainerFactory } from '../../layers/testing/src';
import type { EpisodeService } from '../../layers/episodes/src/episode-service';
import { createServer, type ServerOptions } from '../../layers/server/src';
import { InMemoryEpisodeService } from './in-memory-episode-service';

export interface RunningServer {
  app: FastifyInstance;
  base: string;
  wsBase: string;
  close(): Promise<void>;
}

/** createServer + listen on 127.0.0.1, port 0. */
export async function startServer(options: Partial<ServerOptions> & { service?: EpisodeService } = {}): Promise<RunningServer> {
  const app = createServer({ service: options.service ?? new InMemoryEpisodeService(), ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const base = `http://127.0.0.1:${address.port}`;
  return { app, base, wsBase: base.replace('http://', 'ws://'), close: () => app.close() };
}

/**
 * The stored EpisodeService (DynamoDB + S3 adapters) over the local runtime (dynalite in
 * memory, s3rver in a temporary directory) and the formula trainer.
 */
export async function startStoredService(): Promise<{ service: EpisodeService; close(): Promise<void> }> {
  const { startLocalRuntime } = await import('../../layers/storage/src/local-runtime');
  const { StoredEpisodeService } = await import('../../layers/episodes/src/stored-episode-service');
  const runtime = await startLocalRuntime();
  const service = new StoredEpisodeService({
    episodes: runtime.episodes,
    checkpoints: runtime.checkpoints,
    trainers: formulaTrainerFactory,
    logger: { warn: () => undefined },
  });
  return { service, close: () => runtime.close() };
}

/** In the calling describe: beforeAll starts the stored service and a server over it, afterAll closes both; read fields inside tests. */
export function storedServerForSuite(options: Omit<Partial<ServerOptions>, 'service'> = {}): Omit<RunningServer, 'close'> {
  let stored: Awaited<ReturnType<typeof startStoredService>> | undefined;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    stored = await startStoredService();
    server = await startServer({ ...options, service: stored.service });
  });
  afterAll(async () => {
    await server?.close();
    await stored?.close();
  });
  const started = (): RunningServer => {
    if (!server) throw new Error('storedServerForSuite: the server starts in beforeAll; read it inside tests');
    return server;
  };
  return {
    get app() { return started().app; },
    get base() { return started().base; },
    get wsBase() { return started().wsBase; },
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  assertNoNonFinite(text);
  return { status: response.status, headers: response.headers, text, json };
}

/** JSON has no NaN or Infinity: none may ever appear on the wire, as a token or inside a number. */
export function assertNoNonFinite(text: string): void {
  if (/\bNaN\b|\bInfinity\b/.test(text)) throw new Error(`non-finite number on the wire: ${text.slice(0, 500)}`);
}

/**
 * A WebSocket client speaking OpenEnv's /ws frames as the Python EnvClient does (§9):
 * one JSON text frame out, wait for exactly one reply frame.
 */
export class FrameClient {
  private readonly replies: string[] = [];
  private waiting: ((text: string) => void) | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      assertNoNonFinite(text);
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = null;
        resolve(text);
      } else this.replies.push(text);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<FrameClient> {
    const socket = new WebSocket(url, { headers });
    const client = new FrameClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** The next frame the server sends (or rejects after timeoutMs). */
  next(timeoutMs = 10_000): Promise<any> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply frame')), timeoutMs);
      this.waiting = (text) => {
        clearTimeout(timer);
        resolve(JSON.parse(text));
      };
    });
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  async request(frame: unknown): Promise<any> {
    this.sendRaw(JSON.stringify(frame));
    return this.next();
  }

  reset(data?: Record<string, unknown>) {
    return this.request(data === undefined ? { type: 'reset' } : { type: 'reset', data });
  }

  callTool(name: string, args: Record<string, unknown> = {}) {
    return this.request({ type: 'step', data: { type: 'call_tool', tool_name: name, arguments: args } });
  }

  close(): void {
    this.socket.close();
  }
}

/** A scripted episode that ends with submit_model (5 steps). */
export const SCRIPT: { tool: string; arguments: Record<string, unknown> }[] = [
  { tool: 'configure_training', arguments: { optimizer: 'adam', learning_rate: 0.001, lr_schedule: 'cosine' } },
  { tool: 'run_epochs', arguments: { num_epochs: 5 } },
  { tool: 'get_training_status', arguments: {} },
  { tool: 'run_epochs', arguments: { num_epochs: 10 } },
  { tool: 'submit_model', arguments: {} },
];
