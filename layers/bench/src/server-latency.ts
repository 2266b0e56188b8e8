import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';

/**
 * Latency of the calls an agent makes that train nothing, through a real local server
 * (`ml-trainer serve` in a child process: embedded DynamoDB and S3 on loopback, a temporary
 * state directory) over its REST API, the route the built-in agent uses, from this process
 * with keep-alive (fetch). An episode allows 15 steps, so the calls are spread over
 * episodes: create, configure_training, [run_epochs 1, untimed, with a data folder],
 * toggle_augmentation, adjust_learning_rate, get_training_status × STATUS_PER_EPISODE,
 * submit_model. Warm-up episodes run first, untimed (the trainer worker's TensorFlow start,
 * the first model build, JIT).
 */
export const SERVER_CALL_KINDS = [
  'create_episode',
  'configure_training',
  'toggle_augmentation',
  'adjust_learning_rate',
  'get_training_status',
  'submit_model',
] as const;
export type ServerCallKind = (typeof SERVER_CALL_KINDS)[number];

/** 15 steps: configure, run_epochs, augmentation, learning rate, 10 × status, submit. */
export const STATUS_PER_EPISODE = 10;

export interface ServerLatencyOptions {
  /** The ml-trainer entry the server runs (bin/ml-trainer.js). */
  bin: string;
  /** Timed get_training_status calls (default 200); rounded up to whole episodes. */
  statusCalls?: number;
  /** Untimed get_training_status calls first (default 20); rounded up to whole episodes. */
  warmupCalls?: number;
  task?: string;
  /** The server's data folder: then each episode trains one epoch (untimed) before its status calls, so they read a record with history. */
  dataDir?: string;
  /** Extra arguments for `serve` (e.g. --allow-unverified-data). */
  serveArgs?: string[];
  env?: NodeJS.ProcessEnv;
  startTimeoutSeconds?: number;
  log?: (line: string) => void;
}

/** Milliseconds, nearest-rank percentiles of the timed calls of one kind. */
export interface LatencySummary {
  n: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface CallFailure {
  call: ServerCallKind | 'run_epochs';
  status: number;
  message: string;
}

export interface ServerLatencyFigures {
  task: string;
  via: 'rest';
  /** Timed episodes (after the warm-up ones). */
  episodes: number;
  warmup_episodes: number;
  /** Whether each episode trained one epoch before its status calls. */
  trained_epoch: boolean;
  /** From spawning `serve` to its URL line. */
  server_start_s: number;
  calls: Record<ServerCallKind, LatencySummary>;
  samples_ms: Record<ServerCallKind, number[]>;
  /** Calls answered with an HTTP error or a tool error (warm-up included); none when all went well. */
  failures: CallFailure[];
  /** The 1-minute load average before and after the timed episodes (the report's own type is not imported: report.ts may import these figures). */
  load1_before: number;
  load1_after: number;
}

/** The nearest-rank percentile (p in 0..100) of a sample: a value that occurred. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export function summarizeLatency(samples: readonly number[]): LatencySummary {
  return {
    n: samples.length,
    p50_ms: round3(percentile(samples, 50)),
    p90_ms: round3(percentile(samples, 90)),
    p99_ms: round3(percentile(samples, 99)),
    max_ms: round3(Math.max(...samples)),
  };
}

const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

const serveLine = z.object({ url: z.string().url(), rest: z.string().url() }).passthrough();
const createdEpisode = z.object({ episode_id: z.string().min(1) }).passthrough();
const stepAnswer = z.object({ error: z.object({ code: z.string(), message: z.string() }).passthrough().nullable().optional() }).passthrough();

interface RunningServer {
  rest: string;
  startSeconds: number;
  stop(): Promise<void>;
}

/** `ml-trainer serve --port 0 --json` in a child process; resolves at its URL line. */
async function startServer(options: ServerLatencyOptions, stateDir: string): Promise<RunningServer> {
  const args = [options.bin, 'serve', '--host', '127.0.0.1', '--port', '0', '--state-dir', stateDir, '--json', ...(options.serveArgs ?? [])];
  if (options.dataDir !== undefined) args.push('--data-dir', options.dataDir);
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const line = await firstStdoutLine(child, (options.startTimeoutSeconds ?? 60) * 1000, options.log);
    const { rest } = serveLine.parse(JSON.parse(line));
    return { rest, startSeconds: (performance.now() - started) / 1000, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function firstStdoutLine(child: ChildProcess, timeoutMs: number, log?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no URL within ${timeoutMs / 1000} s: ${err.trim()}`)), timeoutMs);
    child.stderr!.on('data', (chunk) => {
      err += String(chunk);
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') log?.(`serve: ${l}`);
    });
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const end = out.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      resolve(out.slice(0, end));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with code ${code} before printing its URL: ${err.trim()}`));
    });
  });
}

type Samples = Record<ServerCallKind, number[]>;

/** One HTTP call, timed from the request to the whole body read; a failure is recorded, not thrown. */
class TimedClient {
  readonly failures: CallFailure[] = [];
  private requestCount = 0;

  constructor(private readonly rest: string) {}

  async call(kind: ServerCallKind | 'run_epochs', path: string, body: unknown, into: number[] | null): Promise<unknown> {
    const started = performance.now();
    const response = await fetch(`${this.rest}${path}`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    const elapsed = performance.now() - started;
    into?.push(elapsed);
    const parsed: unknown = JSON.parse(text);
    const toolError = response.ok ? stepAnswer.safeParse(parsed).data?.error : null;
    if (!response.ok || toolError) {
      const message = toolError?.message ?? text.slice(0, 300);
      this.failures.push({ call: kind, status: response.status, message });
    }
    return parsed;
  }

  /** A step as the agent sends it: with a request_id of its own. */
  step(episodeId: string, kind: ServerCallKind | 'run_epochs', args: Record<string, unknown>, into: number[] | null): Promise<unknown> {
    this.requestCount += 1;
    const body = { tool: kind, arguments: args, request_id: `bench-${this.requestCount}` };
    return this.call(kind, `/episodes/${encodeURIComponent(episodeId)}/steps`, body, into);
  }
}

/** One episode's calls; `samples` null for a warm-up episode. */
async function playEpisode(client: TimedClient, task: string, trainEpoch: boolean, samples: Samples | null): Promise<void> {
  const into = (kind: ServerCallKind) => (samples === null ? null : samples[kind]);
  const created = createdEpisode.safeParse(await client.call('create_episode', '/episodes', { task_id: task, agent: { policy: 'bench' } }, into('create_episode')));
  if (!created.success) throw new Error(`creating a ${task} episode failed: ${client.failures.at(-1)?.message ?? created.error.message}`);
  const id = created.data.episode_id;
  await client.step(id, 'configure_training', { learning_rate: 0.001, batch_size: 64 }, into('configure_training'));
  if (trainEpoch) await client.step(id, 'run_epochs', { num_epochs: 1 }, null);
  await client.step(id, 'toggle_augmentation', { enabled: true, strength: 0.3 }, into('toggle_augmentation'));
  await client.step(id, 'adjust_learning_rate', { new_lr: 0.0005 }, into('adjust_learning_rate'));
  for (let i = 0; i < STATUS_PER_EPISODE; i++) await client.step(id, 'get_training_status', {}, into('get_training_status'));
  await client.step(id, 'submit_model', {}, into('submit_model'));
}

const episodesFor = (calls: number): number => Math.max(1, Math.ceil(calls / STATUS_PER_EPISODE));

export async function measureServerLatency(options: ServerLatencyOptions): Promise<ServerLatencyFigures> {
  const task = options.task ?? 'easy_mnist';
  const episodes = episodesFor(options.statusCalls ?? 200);
  const warmupEpisodes = (options.warmupCalls ?? 20) <= 0 ? 0 : episodesFor(options.warmupCalls ?? 20);
  const trainEpoch = options.dataDir !== undefined;
  const stateDir = await mkdtemp(join(tmpdir(), 'ml-trainer-bench-serve-'));
  try {
    const server = await startServer(options, stateDir);
    try {
      const client = new TimedClient(server.rest);
      for (let e = 0; e < warmupEpisodes; e++) await playEpisode(client, task, trainEpoch, null);
      const samples = Object.fromEntries(SERVER_CALL_KINDS.map((k) => [k, []])) as unknown as Samples;
      const loadBefore = load1();
      for (let e = 0; e < episodes; e++) {
        await playEpisode(client, task, trainEpoch, samples);
        options.log?.(`server latency: episode ${e + 1}/${episodes}`);
      }
      const loadAfter = load1();
      const calls = Object.fromEntries(SERVER_CALL_KINDS.map((k) => [k, summarizeLatency(samples[k])])) as Record<ServerCallKind, LatencySummary>;
      return {
        task,
        via: 'rest',
        episodes,
        warmup_episodes: warmupEpisodes,
        trained_epoch: trainEpoch,
        server_start_s: Math.round(server.startSeconds * 1000) / 1000,
        calls,
        samples_ms: Object.fromEntries(SERVER_CALL_KINDS.map((k) => [k, samples[k].map(round3)])) as unknown as Samples,
        failures: client.failures,
        load1_before: loadBefore,
        load1_after: loadAfter,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}
