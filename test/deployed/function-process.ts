import * as fs from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** One function's process (test/deployed/function-runner.cjs) and its invocations over IPC. */
export interface InvocationContext {
  functionName: string;
  functionArn: string;
  memoryMb: number;
  timeoutMs: number;
}

export type InvocationOutcome = { ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string; stack?: string };

const RUNNER = path.join(__dirname, 'function-runner.cjs');
const LOG_LINES_KEPT = 400;

export class FunctionProcess {
  private readonly pending = new Map<number, (message: any) => void>();
  private nextId = 1;
  private readonly logLines: string[] = [];
  private exited: string | null = null;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.logLines.push(line);
      this.logLines.splice(0, Math.max(0, this.logLines.length - LOG_LINES_KEPT));
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('message', (message: any) => {
      if (message?.id !== undefined) this.pending.get(message.id)?.(message);
    });
    child.on('exit', (code, signal) => {
      this.exited = `exited (${code ?? signal})`;
      for (const [id, settle] of this.pending) settle({ id, ok: false, errorType: 'Runtime.ExitError', errorMessage: `${name}: the function's process ${this.exited}` });
      this.pending.clear();
    });
  }

  /** Starts `node function-runner.cjs <bundle> <handler>` with exactly this environment. */
  static async start(name: string, bundle: string, handler: string, env: Record<string, string>, cwd: string): Promise<FunctionProcess> {
    const child = fork(RUNNER, [bundle, handler], { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    const fp = new FunctionProcess(name, child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', (message: any) => {
        if (message?.type === 'ready') resolve();
        else reject(new Error(`${name}: the bundle did not load: ${message?.errorType}: ${message?.errorMessage}\n${fp.logs()}`));
      });
      child.once('exit', (code) => reject(new Error(`${name}: the function's process exited (${code}) before it was ready\n${fp.logs()}`)));
    });
    return fp;
  }

  invoke(event: unknown, context: InvocationContext): Promise<InvocationOutcome> {
    if (this.exited) return Promise.resolve({ ok: false, errorType: 'Runtime.ExitError', errorMessage: `${this.name}: ${this.exited}` });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, (message) => {
        this.pending.delete(id);
        resolve(message.ok ? { ok: true, result: message.result } : { ok: false, errorType: message.errorType, errorMessage: message.errorMessage, stack: message.stack });
      });
      this.child.send({ type: 'invoke', id, event, context });
    });
  }

  /** The environment variables the function's code has read so far. */
  envReads(): Promise<string[]> {
    if (this.exited) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, (message) => {
        this.pending.delete(id);
        resolve(message.names ?? []);
      });
      this.child.send({ type: 'env-reads', id });
    });
  }

  /** The last lines the function logged (stdout and stderr), for failure messages. */
  /**
   * The process's peak resident memory so far (Linux's VmHWM, what Lambda's "Max Memory Used"
   * reports); null where /proc is not there or the process has exited.
   */
  peakRssBytes(): number | null {
    try {
      const kb = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1];
      return kb === undefined ? null : Number(kb) * 1024;
    } catch {
      return null;
    }
  }

  logs(lines = 40): string {
    return this.logLines.slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
