import { access, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { KEY_SAFE_ID_MAX_LENGTH, KEY_SAFE_ID_PATTERN, parseEpisodeRecord } from '../../layers/core/src';
import { unreachableMessage, unreachableServer } from '../../layers/agent/src';
import { EpisodeServiceError, type EpisodeView } from '../../layers/episodes/src';
import { buildEpisodeReport, renderEpisodeReportHtml, type EpisodeReport } from '../../layers/reports/src';
import { UsageError, type CliCommand, type CliIO } from '../command';
import { readJsonInput } from '../read-input';
import { DISCOVERY_FILE, findServerOnStateDir, type ServerOnStateDir } from '../server-discovery';
import { defaultStateDir } from './serve';

const HELP = `Usage: ml-trainer report <episode-id> [--out <file>] [--json] [--state-dir <dir>] [--tenant <id>]
       ml-trainer report <episode-id> --server <url> [--out <file>] [--json] [--tenant <id>]
       ml-trainer report --record <file|-> [--out <file>] [--json]

Writes an episode's report: one self-contained HTML file (loss, accuracy and learning-rate
charts with the configuration changes and the best epoch, the grade's breakdown, the
timeline of tool calls, usage) that opens in any browser without a network. --json writes
the same data as JSON instead.

Where the episode comes from:
  <episode-id>              an episode of the local store that \`ml-trainer serve\` uses
  --state-dir <dir>         that store (default: $ML_TRAINER_HOME/state, else
                            $XDG_DATA_HOME/ml-trainer/state, else ~/.local/share/ml-trainer/state).
                            While \`ml-trainer serve\` runs on it, the report is read from
                            that server (its address is in <dir>/${DISCOVERY_FILE})
  --server <url>            a server's REST API, e.g. http://127.0.0.1:8000
  --tenant <id>             the episode's tenant (default local)
  --record <file|->         a saved episode: the episode.json of \`ml-trainer step\`, the body
                            of GET /v1/episodes/<id>, or a bare episode record ("-": stdin)

Options:
  --out <file>              where to write (default: standard output)
  --json                    write the report's data as JSON instead of HTML
  -h, --help                show this help`;

interface Source {
  report: EpisodeReport;
  what: string;
}

export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'write an episode report (self-contained HTML with charts, or JSON)',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        json: { type: 'boolean' },
        'state-dir': { type: 'string' },
        server: { type: 'string' },
        tenant: { type: 'string' },
        record: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 1) throw new UsageError(`expected one episode id, got ${positionals.length}: ${positionals.join(' ')}`);
    const episodeId = positionals[0] === undefined ? undefined : parseEpisodeId(positionals[0]);
    if (values.record !== undefined && episodeId !== undefined) throw new UsageError('give an episode id or --record <file>, not both');
    if (values.record === undefined && episodeId === undefined) throw new UsageError('give an episode id, or --record <file>');
    if (values.server !== undefined && values['state-dir'] !== undefined) throw new UsageError('--server and --state-dir are two sources; give one');
    if (values.record !== undefined && (values.server !== undefined || values['state-dir'] !== undefined || values.tenant !== undefined)) {
      throw new UsageError('--record reads a file: --server, --state-dir and --tenant do not apply');
    }
    const tenant = values.tenant ?? 'local';

    let source: Source;
    if (values.record !== undefined) source = reportFromSaved(await readJsonInput(values.record, io.stdin, 'the episode record'), values.record);
    else if (values.server !== undefined) source = await reportFromServer(values.server, tenant, episodeId!, 'leave out --server to read the local store');
    else source = await reportFromStateDir(values['state-dir'] ?? defaultStateDir(io.env), tenant, episodeId!, io);

    const text = values.json ? `${JSON.stringify(source.report, null, 2)}\n` : renderEpisodeReportHtml(source.report);
    await writeOutput(values.out, text, io);
    if (values.out !== undefined && values.out !== '-') {
      io.stderr.write(`wrote the ${values.json ? 'JSON' : 'HTML'} report of ${source.what} to ${values.out}\n`);
    }
    return 0;
  },
};

/** Episode ids are key-safe ids (the store keys items by them): anything else names no episode. */
const episodeIdSchema = z.string().regex(KEY_SAFE_ID_PATTERN);

/** How much of a refused id the message shows. */
const SHOWN_ID_LENGTH = 40;

function parseEpisodeId(value: string): string {
  if (episodeIdSchema.safeParse(value).success) return value;
  const shown = value.length > SHOWN_ID_LENGTH ? `${JSON.stringify(value.slice(0, SHOWN_ID_LENGTH))}… (${value.length} characters)` : JSON.stringify(value);
  throw new UsageError(
    `<episode-id> must be an episode id: 1 to ${KEY_SAFE_ID_MAX_LENGTH} characters, letters, digits and . _ : @ = + -, ` +
      `starting with a letter or digit; got ${shown}`,
  );
}

async function writeOutput(out: string | undefined, text: string, io: CliIO): Promise<void> {
  if (out === undefined || out === '-') {
    io.stdout.write(text);
    return;
  }
  try {
    await writeFile(out, text);
  } catch (error) {
    throw new UsageError(`cannot write ${out}: ${(error as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A bare record, `ml-trainer step`'s episode.json ({record, checkpoint_file, …}) or a REST episode body ({episode_id, record, usage, …}). */
export function reportFromSaved(value: unknown, where: string): Source {
  if (!isObject(value)) throw new UsageError(`${where} does not hold an episode: expected a JSON object`);
  if ('schema_version' in value) {
    return { report: buildEpisodeReport({ record: parseEpisodeRecord(value) }), what: `the record in ${where}` };
  }
  if (!('record' in value)) throw new UsageError(`${where} does not hold an episode: expected an episode record, or an object with "record"`);
  const record = parseEpisodeRecord(value.record);
  const usage = isObject(value.usage) ? (value.usage as unknown as EpisodeView['usage']) : null;
  const report = buildEpisodeReport({
    record,
    episodeId: stringOrNull(value.episode_id),
    tenant: stringOrNull(value.tenant),
    usage:
      usage && typeof usage.steps === 'number' && typeof usage.epochs_trained === 'number' && typeof usage.training_seconds === 'number'
        ? { steps: usage.steps, epochs_trained: usage.epochs_trained, training_seconds: usage.training_seconds }
        : null,
    createdAt: stringOrNull(value.created_at),
    updatedAt: stringOrNull(value.updated_at),
    version: typeof value.version === 'number' ? value.version : null,
  });
  return { report, what: report.episode_id ? `episode ${report.episode_id}` : `the record in ${where}` };
}

/** From the server running on the state directory when one answers (the directory is locked while it runs), else from the directory. */
async function reportFromStateDir(stateDir: string, tenant: string, episodeId: string, io: CliIO): Promise<Source> {
  const server = await findServerOnStateDir(stateDir);
  if (server.kind !== 'running') return reportFromStore(stateDir, tenant, episodeId, server);
  const { url } = server.discovery;
  io.stderr.write(`reading from the running server at ${url}\n`);
  return reportFromServer(url, tenant, episodeId, 'run this again once it has stopped to read the state directory itself');
}

/** `alternative`: how to do without this server, for the message when it cannot be reached. */
async function reportFromServer(server: string, tenant: string, episodeId: string, alternative: string): Promise<Source> {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:8000, got ${JSON.stringify(server)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError('--server must be an http(s) URL');
  const url = new URL(`v1/episodes/${encodeURIComponent(episodeId)}`, base.href.endsWith('/') ? base.href : `${base.href}/`);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json', 'x-tenant-id': tenant } });
  } catch (error) {
    const unreachable = unreachableServer(base.href, error);
    throw new UsageError(unreachable === null ? `cannot reach ${base.origin}: ${(error as Error).message}` : unreachableMessage(unreachable, alternative));
  }
  const text = await response.text();
  if (response.status === 404) throw new UsageError(`no episode ${episodeId} of tenant ${tenant} on ${base.origin}`);
  if (!response.ok) throw new Error(`${url.href} answered ${response.status}: ${text.slice(0, 300)}`);
  const { report } = reportFromSaved(JSON.parse(text), url.href);
  return { report, what: `episode ${episodeId}` };
}

async function reportFromStore(stateDir: string, tenant: string, episodeId: string, server: Exclude<ServerOnStateDir, { kind: 'running' }>): Promise<Source> {
  try {
    await access(stateDir);
  } catch {
    throw new UsageError(`no state directory ${stateDir} (give --state-dir, the one \`ml-trainer serve\` used)`);
  }
  const { startLocalRuntime } = await import('../../layers/storage/src/local-runtime');
  const { StoredEpisodeCatalog } = await import('../../layers/episodes/src');
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>>;
  try {
    runtime = await startLocalRuntime({ dataDir: stateDir });
  } catch (error) {
    const message = (error as Error).message;
    if (/in use by another local runtime/.test(message)) throw new UsageError(`${message}\n${nextStepForBusyStore(server)}`);
    throw error;
  }
  try {
    // Reading needs no trainer: the catalog is the stored service without steps.
    const service = new StoredEpisodeCatalog({ episodes: runtime.episodes });
    let view: EpisodeView;
    try {
      view = await service.getEpisode(tenant, episodeId);
    } catch (error) {
      if (error instanceof EpisodeServiceError && error.code === 'not_found') {
        throw new UsageError(`no episode ${episodeId} of tenant ${tenant} in ${stateDir}`);
      }
      throw error;
    }
    const report = buildEpisodeReport({
      record: view.record,
      episodeId: view.episode_id,
      tenant: view.tenant,
      usage: view.usage,
      createdAt: view.created_at,
      updatedAt: view.updated_at,
      version: view.version,
    });
    return { report, what: `episode ${episodeId}` };
  } finally {
    await runtime.close();
  }
}

/** The store is locked and no server on it answers: a server starting or hung, or another command using it. */
function nextStepForBusyStore(server: Exclude<ServerOnStateDir, { kind: 'running' }>): string {
  if (server.kind === 'silent') {
    const { url, pid } = server.discovery;
    return (
      `Its server (process ${pid}) does not answer at ${url}: if it is starting, run this again in a moment; ` +
      `if it hangs, stop it (kill ${pid}) and run this again.`
    );
  }
  return (
    'No server records its address there (a server still starting, one of an older version, or another command using the directory): ' +
    'run this again in a moment, or give the URL its server printed at start: --server <url>.'
  );
}
