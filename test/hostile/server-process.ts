import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';

/**
 * The local server in a child process over embedded DynamoDB/S3 that live in this process,
 * so the stored state survives the server's death and can be compared around every case.
 */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited = true;
  stderrTail = '';
  port = 0;

  constructor(private readonly runtime: LocalRuntime) {}

  /** The process has exited (it may die after answering a case's health request). */
  get dead(): boolean {
    return this.exited;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', join(__dirname, 'server-child.ts')], {
      env: { ...process.env, HOSTILE_STORAGE_CONFIG: JSON.stringify(this.runtime.config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = false;
    child.on('exit', () => (this.exited = true));
    child.stderr!.on('data', (chunk) => (this.stderrTail = (this.stderrTail + String(chunk)).slice(-4000)));
    this.port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server did not start: ${this.stderrTail}`)), 60_000);
      child.stdout!.on('data', (chunk) => {
        out += String(chunk);
        const line = out.split('\n')[0]!;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { port: number }).port);
        }
      });
      child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${this.stderrTail}`)));
    });
  }

  /** The process is up and answers GET /health with 200 within a few seconds. */
  async alive(): Promise<boolean> {
    if (this.exited) return false;
    const answer = await rawHttp(this.base, { method: 'GET', path: '/health', timeoutMs: 5_000 });
    return answer.status === 200 && !this.exited;
  }

  /** After a crash or a wedge: kill what is left and start again on the same storage. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
  /** The connection failed or timed out before an answer. */
  error?: string;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One HTTP request exactly as given (raw path, any headers, any body bytes). */
export function rawHttp(
  base: string,
  options: { method: string; path: string; headers?: Record<string, string>; body?: string; timeoutMs?: number },
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const url = new URL(base);
    let settled = false;
    const done = (answer: RawAnswer) => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    let req: ReturnType<typeof request>;
    try {
      req = request({ agent: false, host: url.hostname, port: url.port, method: options.method, path: options.path, headers: options.headers ?? {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          done({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) });
        });
        res.on('error', (e) => done({ status: 0, headers: {}, text: '', json: undefined, error: e.message }));
      });
    } catch (e) {
      // The client refuses to send it (a character a header or path may not hold): not a case.
      done({ status: -1, headers: {}, text: '', json: undefined, error: (e as Error).message });
      return;
    }
    req.setTimeout(options.timeoutMs ?? 15_000, () => {
      req.destroy(new Error('timed out'));
    });
    req.on('error', (e) => done({ status: 0, headers: {}, text: '', json: undefined, error: e.message }));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Every episode item, as one comparable string (a checkpoint is written only with a new item version). */
export async function storedState(runtime: LocalRuntime): Promise<string> {
  const items: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await runtime.clients.documents.send(new ScanCommand({ TableName: runtime.config.tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) items.push(JSON.stringify(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort().join('\n');
}

/** In the calling describe: the embedded storage and the server process, started before and stopped after. */
export function hostileServerForSuite() {
  const state: { runtime?: LocalRuntime; server?: ServerProcess } = {};
  beforeAll(async () => {
    state.runtime = await startLocalRuntime();
    state.server = new ServerProcess(state.runtime);
    await state.server.start();
  }, 90_000);
  afterAll(async () => {
    await state.server?.stop();
    await state.runtime?.close();
  });
  return {
    get runtime(): LocalRuntime {
      return state.runtime!;
    },
    get server(): ServerProcess {
      return state.server!;
    },
  };
}
