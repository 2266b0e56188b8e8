import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { StoredEpisodeService, sweepOrphanCheckpoints } from '../../layers/episodes/src';
import { createServer, DEFAULT_STANDARD_MCP_PATH } from '../../layers/server/src';
import { MAX_TRAINER_WORKERS } from '../../layers/runtime/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { version as PACKAGE_VERSION } from '../../package.json';
import { UsageError, type CliCommand, type CliIO } from '../command';
import { DISCOVERY_FILE, removeDiscovery, writeDiscovery } from '../server-discovery';
import { describeStartFailure } from '../serve-start-failure';
import { fill, TERMINAL_WIDTH } from '../help-text';
import { parseServeAccess, SERVE_ACCESS_OPTIONS, SERVE_ACCESS_OPTIONS_HELP, type ServeAccess, type ServeAccessValues } from '../serve-access-options';
import { TRAINING_OPTIONS, TRAINING_OPTIONS_HELP, trainerFactoryFor, type TrainingOptionValues } from '../training-options';

const HELP = `Usage: ml-trainer serve [--host 127.0.0.1] [--port 8000] [--state-dir <dir>] [options]

Serves the environment over HTTP on this machine: OpenEnv (POST /reset, /step, GET /state,
WebSocket /ws, JSON-RPC POST /mcp), standard MCP (Streamable HTTP) at ${DEFAULT_STANDARD_MCP_PATH} and the
REST API under /v1. Episodes and trainer checkpoints are kept by an embedded local DynamoDB
(dynalite) and S3 (s3rver) under the state directory, so they survive a restart.
Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --host <address>         the address to listen on (default 127.0.0.1; 0.0.0.0 exposes it
                           to the network: there is no authentication; needs --allow-host)
  --port <N>               the port (default: $ML_TRAINER_PORT, else 8000; 0 picks a free one)
${SERVE_ACCESS_OPTIONS_HELP}
  --state-dir <dir>        where episodes are stored (default: $ML_TRAINER_HOME/state, else
                           $XDG_DATA_HOME/ml-trainer/state, else ~/.local/share/ml-trainer/state)
                           (--data-dir-state is accepted as another name for it). While the
                           server runs, its ${DISCOVERY_FILE} there gives its URL (\`report\` reads it)
  --log                    log every request to stderr (JSON lines)
  --workers <N>            how many episodes train at once: easy_mnist's one-thread MLP trains in a
                           pool of up to N worker processes, one per concurrent episode (default:
                           $ML_TRAINER_WORKERS, else one per core, here ${availableParallelism()}; started when needed).
                           The CNN tasks train in the server's process on every core; concurrent
                           CNN steps take turns epoch by epoch (measured faster than interleaving,
                           README "Performance"). It does not cap sessions (--max-sessions does)
${TRAINING_OPTIONS_HELP}
  --json                   print the URLs as one JSON line instead of text
  -h, --help               show this help

The tenant of a request is its x-tenant-id header (default "local").`;

interface ServeValues extends TrainingOptionValues, ServeAccessValues {
  host?: string;
  port?: string;
  'state-dir'?: string;
  'data-dir-state'?: string;
  log?: boolean;
  workers?: string;
  json?: boolean;
}

export interface ServeHandle {
  urls: ServeUrls;
  stateDir: string;
  trainer: string;
  /** The data folder the tfjs trainer reads and which datasets it holds (null with the formula trainer). */
  data: { dataDir: string; datasets: { dataset: string; present: boolean }[] } | null;
  close(): Promise<void>;
}

export interface ServeUrls {
  url: string;
  openenv: { http: string; ws: string; mcp: string };
  mcp: string;
  rest: string;
}

/** $ML_TRAINER_HOME/state, else $XDG_DATA_HOME/ml-trainer/state, else ~/.local/share/ml-trainer/state. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  if (env.ML_TRAINER_HOME) return join(env.ML_TRAINER_HOME, 'state');
  const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(dataHome, 'ml-trainer', 'state');
}

/** --port wins over $ML_TRAINER_PORT (for `npm start`, where flags need `--`), else 8000. */
function parsePort(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  const [text, name] = flag !== undefined ? [flag, '--port'] : [env.ML_TRAINER_PORT, 'ML_TRAINER_PORT'];
  if (text === undefined || text === '') return 8000;
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port > 65535) throw new UsageError(`${name} must be an integer from 0 to 65535, got ${JSON.stringify(text)}`);
  return port;
}

function parseWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const workers = Number(text);
  if (!/^\d+$/.test(text) || workers < 1 || workers > MAX_TRAINER_WORKERS) {
    throw new UsageError(`--workers must be a whole number from 1 to ${MAX_TRAINER_WORKERS}, got ${JSON.stringify(text)} (ML_TRAINER_WORKERS=off trains every task in the server's process)`);
  }
  return workers;
}

/** Addresses that bind every interface: no client can send a request to them. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The URLs to show. A wildcard bind address is not a name clients use (and the server refuses
 * Host headers it was not told about): the first --allow-host stands in for it.
 */
function urlsOf(app: FastifyInstance, host: string, allowedHosts: readonly string[]): ServeUrls {
  return serveUrls(host, portOf(app), allowedHosts);
}

function portOf(app: FastifyInstance): number {
  const address = app.server.address();
  return address !== null && typeof address === 'object' ? address.port : 0;
}

/** The URLs this machine reaches the server at: loopback for a wildcard bind address (what server.json records). */
function localUrls(host: string, port: number): ServeUrls {
  return serveUrls(WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host, port, []);
}

export function serveUrls(host: string, port: number, allowedHosts: readonly string[]): ServeUrls {
  const name = WILDCARD_HOSTS.has(host) ? (allowedHosts[0]?.replace(/:\d+$/, '') ?? '127.0.0.1') : host;
  const shown = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  const url = `http://${shown}:${port}`;
  const ws = url.replace(/^http/, 'ws');
  return { url, openenv: { http: url, ws: `${ws}/ws`, mcp: `${url}/mcp` }, mcp: `${url}${DEFAULT_STANDARD_MCP_PATH}`, rest: `${url}/v1` };
}

export interface ServeOptions {
  host: string;
  port: number;
  stateDir: string;
  training: TrainingOptionValues;
  /** Log every request to stderr. */
  log: boolean;
  /** Allowed hosts and origins, session limits (serve-access-options.ts). */
  access: ServeAccess;
  /** The trainer worker pool's size (default: ML_TRAINER_WORKERS, else one per core). */
  workers?: number;
}

/**
 * `npm start --port 8001` (without `--`): npm takes --port as its own setting (npm_config_port)
 * and passes 8001 on as an argument; `npm start --port=8001` passes nothing on. Either way
 * the port the user asked for would be lost.
 */
function refuseNpmSwallowedPort(positionals: string[], portFlag: string | undefined, env: NodeJS.ProcessEnv): void {
  const npmPort = env.npm_config_port;
  const lone = positionals.length === 1 ? positionals[0]! : undefined;
  const looksLikePort = (text: string) => /^\d{1,5}$/.test(text);
  if (npmPort !== undefined) {
    const swallowed = lone ?? (positionals.length === 0 && portFlag === undefined && looksLikePort(npmPort) ? npmPort : undefined);
    if (swallowed !== undefined) {
      throw new UsageError(`npm took --port for itself: run \`npm start -- --port ${swallowed}\` (or \`ML_TRAINER_PORT=${swallowed} npm start\`)`);
    }
  }
  if (lone !== undefined && looksLikePort(lone)) throw new UsageError(`the port is an option: \`ml-trainer serve --port ${lone}\``);
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, only options; got ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
}

/** The command line as options; --json only changes how the URLs are printed. */
export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): { options: ServeOptions; json: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      'data-dir-state': { type: 'string' },
      log: { type: 'boolean' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      ...TRAINING_OPTIONS,
      ...SERVE_ACCESS_OPTIONS,
    },
    strict: true,
    allowPositionals: true,
  }) as { values: ServeValues; positionals: string[] };
  refuseNpmSwallowedPort(positionals, values.port, env);
  if (values['state-dir'] !== undefined && values['data-dir-state'] !== undefined && values['state-dir'] !== values['data-dir-state']) {
    throw new UsageError('--state-dir and --data-dir-state name the same directory; give one of them');
  }
  if (values.trainer !== undefined && values.trainer !== 'tfjs' && values.trainer !== 'formula') {
    throw new UsageError(`--trainer must be tfjs or formula, got ${JSON.stringify(values.trainer)}`);
  }
  const host = values.host ?? '127.0.0.1';
  const workers = parseWorkers(values.workers);
  return {
    options: {
      host,
      port: parsePort(values.port, env),
      stateDir: values['state-dir'] ?? values['data-dir-state'] ?? defaultStateDir(env),
      training: { 'data-dir': values['data-dir'], 'allow-unverified-data': values['allow-unverified-data'], trainer: values.trainer },
      log: values.log ?? false,
      access: parseServeAccess(values, host),
      ...(workers === undefined ? {} : { workers }),
    },
    json: values.json ?? false,
  };
}

/**
 * Removes orphan checkpoints (left by a step killed between its upload and its commit) in
 * the background at start and says which; a failure only warns.
 */
async function sweepAtStart(runtime: LocalRuntime, io: CliIO): Promise<void> {
  try {
    const { deleted } = await sweepOrphanCheckpoints(runtime);
    if (deleted.length === 0) return;
    io.stderr.write(`removed ${deleted.length} orphan checkpoint${deleted.length === 1 ? '' : 's'} (no episode points to them): ${deleted.join(', ')}\n`);
  } catch (error) {
    io.stderr.write(`warning: the start-up sweep of orphan checkpoints failed: ${String(error)}\n`);
  }
}

/** Starts the local runtime (persisted under stateDir), the stored service and the server; close() stops all three. */
export async function startServe(options: ServeOptions, io: CliIO): Promise<ServeHandle> {
  const trainers = await trainerFactoryFor(options.training, io, undefined, { workers: options.workers });
  const runtime: LocalRuntime = await startLocalRuntime({ dataDir: options.stateDir });
  let app: FastifyInstance | null = null;
  try {
    const service = new StoredEpisodeService({
      episodes: runtime.episodes,
      checkpoints: runtime.checkpoints,
      trainers,
      logger: {
        warn: (message: string, details?: Record<string, unknown>) => io.stderr.write(`warning: ${message} ${JSON.stringify(details ?? {})}\n`),
        error: (message: string, details?: Record<string, unknown>) => io.stderr.write(`error: ${message} ${JSON.stringify(details ?? {})}\n`),
      },
    });
    // Without --log, errors are still logged: an internal error's answer says "the server log has the details".
    app = createServer({ service, ...options.access, logger: { level: options.log ? 'info' : 'error', stream: io.stderr } });
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw error;
  }
  const server = app;
  const sweeping = sweepAtStart(runtime, io);
  const data = await dataFolderOf(options.training, io.env);
  const discovery = await announce(options.stateDir, localUrls(options.host, portOf(server)), io);
  let closing: Promise<void> | null = null;
  return {
    urls: urlsOf(server, options.host, options.access.allowedHosts ?? []),
    stateDir: options.stateDir,
    trainer: options.training.trainer ?? 'tfjs',
    data,
    close() {
      closing ??= (async () => {
        try {
          await server.close();
        } finally {
          await sweeping;
          // While the runtime's lock is held, no other server can have replaced the file.
          if (discovery !== null) await removeDiscovery(options.stateDir, discovery).catch(() => undefined);
          await runtime.close();
        }
      })();
      return closing;
    },
  };
}

/** Writes server.json (server-discovery.ts) so that `report` on this state directory finds the server; a failure only warns. */
async function announce(stateDir: string, urls: ServeUrls, io: CliIO): Promise<{ pid: number; started_at: string } | null> {
  const discovery = { url: urls.url, rest: urls.rest, mcp: urls.mcp, pid: process.pid, version: PACKAGE_VERSION, started_at: new Date().toISOString() };
  try {
    await writeDiscovery(stateDir, discovery);
    return discovery;
  } catch (error) {
    io.stderr.write(`warning: cannot write ${DISCOVERY_FILE} in ${stateDir} (${(error as Error).message}); \`ml-trainer report\` will not find this server there: give it --server ${urls.url}\n`);
    return null;
  }
}

/** What the banner says about datasets: the folder the tfjs trainer reads (same resolution as trainerFactoryFor) and what it holds. */
async function dataFolderOf(training: TrainingOptionValues, env: NodeJS.ProcessEnv): Promise<ServeHandle['data']> {
  if ((training.trainer ?? 'tfjs') !== 'tfjs') return null;
  const { datasetPresence } = await import('../../layers/runtime/src');
  const { dataDir, datasets } = datasetPresence(training['data-dir'] ?? env.ML_TRAINER_DATA_DIR, env);
  return { dataDir, datasets: datasets.map(({ dataset, present }) => ({ dataset, present })) };
}

const BANNER_LABEL_WIDTH = 10;

function describeData(data: NonNullable<ServeHandle['data']>): string[] {
  const each = data.datasets.map((d) => `${d.dataset} ${d.present ? 'present' : 'missing'}`).join(', ');
  const missing = data.datasets.some((d) => !d.present) ? '; a missing one is downloaded on first use, or run: ml-trainer datasets fetch --dataset all' : '';
  return bannerLines('Data', `${data.dataDir}  (${each}${missing})`);
}

/** A banner row within 80 columns: its label, then the text wrapped under itself. */
function bannerLines(label: string, text: string): string[] {
  return fill(text.split(/\s+/), `  ${label.padEnd(BANNER_LABEL_WIDTH)}`, ' '.repeat(BANNER_LABEL_WIDTH + 2), TERMINAL_WIDTH);
}

function printUrls(handle: ServeHandle, json: boolean, io: CliIO): void {
  const { urls } = handle;
  if (json) {
    const data = handle.data === null ? {} : { data_dir: handle.data.dataDir, datasets: handle.data.datasets };
    io.stdout.write(`${JSON.stringify({ ...urls, state_dir: handle.stateDir, trainer: handle.trainer, ...data })}\n`);
    return;
  }
  io.stdout.write(
    [
      `ml-trainer serving on ${urls.url}`,
      ...bannerLines('State', `${handle.stateDir}  (trainer: ${handle.trainer})`),
      ...bannerLines('Dashboard', `${urls.url}/  (episodes, live curves, leaderboard)`),
      ...bannerLines('OpenEnv', `${urls.openenv.http}  POST /reset, /step, GET /state; WebSocket ${urls.openenv.ws}; JSON-RPC POST ${urls.openenv.mcp}`),
      ...bannerLines('MCP', `${urls.mcp}  (Streamable HTTP)`),
      ...bannerLines('REST', `${urls.rest}  (/episodes, /tasks, /tools)`),
      ...(handle.data === null ? [] : describeData(handle.data)),
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
}

/** Resolves at the first SIGINT or SIGTERM; dispose() stops listening (a second Ctrl-C then kills as usual). */
function shutdownSignal(): { promise: Promise<NodeJS.Signals>; dispose(): void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const dispose = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      dispose();
      resolve(signal);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { promise, dispose };
}

/** The command with its stop condition injectable: the CLI waits for a signal, tests for a promise. */
export async function runServe(argv: string[], io: CliIO, stop: Promise<unknown>): Promise<number> {
  const { options, json } = parseServeArgs(argv, io.env);
  let handle: ServeHandle;
  try {
    handle = await startServe(options, io);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Port in use, state directory held by another server, ...: what was tried and the next command, not a stack.
    const { host, port, stateDir } = options;
    const described = await describeStartFailure(error, { host, port, stateDir, localUrl: localUrls(host, port).url });
    io.stderr.write(`ml-trainer serve: ${described ?? (error as Error).message}\n`);
    return 1;
  }
  printUrls(handle, json, io);
  await stop;
  io.stderr.write('ml-trainer serve: stopping\n');
  await handle.close();
  return 0;
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'serve the environment over HTTP (OpenEnv, MCP, REST) with local storage',
  help: HELP,
  async run(argv, io) {
    const signal = shutdownSignal();
    try {
      return await runServe(argv, io, signal.promise);
    } finally {
      signal.dispose();
    }
  },
};
