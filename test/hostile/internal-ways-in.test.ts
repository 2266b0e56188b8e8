import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { UsageError } from '../../cli/command';
import { parseSmokeArgs } from '../../cli/commands/cloud-smoke';
import { PassThrough } from 'node:stream';
import type { CliIO } from '../../cli/command';
import { parseBenchArgv } from '../../cli/commands/bench';
import { parseCostArgv } from '../../cli/commands/cost';
import { parseEvalArgv } from '../../cli/commands/eval';
import { parseParallelBenchArgv } from '../../cli/parallel-bench-options';
import { parseUploadArgs } from '../../cli/commands/datasets-upload';
import { parseServeArgs } from '../../cli/commands/serve';
import { discoveryPath, findServerOnStateDir } from '../../cli/server-discovery';
import { allowsUnverifiedData } from '../../cli/training-options';
import { trainerWorkerCount } from '../../layers/runtime/src';
import { gradeEventSchema } from '../../functions/grade/handler';
import {
  findEpisodesEventSchema,
  gradeBatchEventSchema,
  InvalidEventError,
  parseEvent,
  parseTrainingEvent,
  unwrapTrainingResponse,
  writeReportEventSchema,
} from '../../layers/cloud/src';
import { DatasetUnavailableError } from '../../layers/core/src';
import { EpisodeServiceError } from '../../layers/episodes/src';
import { runCli } from '../cli/cli-harness';
import { hostileValue, type HostileValue } from './hostile-json';
import { countsReport, holds, record, settings, track } from './tally';

/*
 * The ways in that are not network interfaces (issue 12 item 10): the Lambda events Step
 * Functions and the api send (a hand-made invocation can send anything), `ml-trainer serve`'s
 * access options (and --workers), `ml-trainer report`'s episode id, the options of `eval`, `bench`, `bench --parallel`, `cost`, `cloud smoke` and
 * `datasets upload`, the environment variables serve and the trainers read, the state dir's server.json
 * (report trusts none of it), and the training Lambda's answer as the api reads it. Each either accepts the input or
 * refuses it with its own error (InvalidEventError / a malformed-event Error naming the event;
 * a usage error, exit 2) with a bounded message, never an unexpected exception.
 */

afterAll(() => console.log(countsReport()));

/** What a refusal may repeat of hostile input before it is unbounded echo. */
const MESSAGE_MAX_CHARS = 2_000;

function refusal(iface: string, error: unknown, expected: (e: unknown) => boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  const ok = expected(error) && message.length <= MESSAGE_MAX_CHARS;
  const problems = record(iface, { verdict: ok ? 'rejected' : 'server_error', summary: message.slice(0, 200) }, false);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** Any value, or a valid event with one field replaced by any value. */
function aroundValid(valid: Record<string, HostileValue>): fc.Arbitrary<HostileValue> {
  const mutated = fc.record({ key: fc.constantFrom(...Object.keys(valid)), value: hostileValue }).map(({ key, value }) => ({ ...valid, [key]: value }) as HostileValue);
  return fc.oneof(hostileValue, mutated, fc.constant(valid as HostileValue));
}

const events: [string, (event: HostileValue) => unknown, fc.Arbitrary<HostileValue>][] = [
  ['find-episodes event', (e) => parseEvent(findEpisodesEventSchema, e), aroundValid({ run_id: 'r', started_at: '2026-01-01T00:00:00Z', request: { trigger: 'schedule' } })],
  ['grade-batch event', (e) => parseEvent(gradeBatchEventSchema, e), aroundValid({ run_id: 'r', episodes: [{ tenant: 't', episode_id: 'e', abandoned: true }] })],
  [
    'write-report event',
    (e) => parseEvent(writeReportEventSchema, e),
    aroundValid({
      run_id: 'r',
      started_at: '2026-01-01T00:00:00Z',
      found: { status: 'found', since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z', truncated: false, counts: { ended: 1, abandoned: 0, total: 1, carried_over: 0 } },
      graded: { ResultWriterDetails: { Bucket: 'b', Key: 'batch-runs/results/x/manifest.json' } },
    }),
  ],
  ['grade event', (e) => parseEvent(gradeEventSchema, e), aroundValid({ source: 'api', tenant: 't', episode_id: 'e' })],
];

describe('Lambda events', () => {
  it.each(events)('%s: accepted, or InvalidEventError with a bounded message', async (iface, parse, arbitrary) => {
    await holds(
      fc.asyncProperty(arbitrary, async (event) =>
        track(
          (async () => {
            try {
              parse(event);
              record(iface, { verdict: 'accepted', summary: 'parsed' }, false);
            } catch (error) {
              refusal(iface, error, (e) => e instanceof InvalidEventError);
            }
          })(),
        ),
      ),
      settings(200),
    );
  });

  it('training step event: accepted, or "Malformed training event" with a bounded message', async () => {
    const call = { tool: 'run_epochs', arguments: {}, reason: 'one more epoch' };
    const step = { kind: 'ml-trainer.step', version: 1, mode: 'sync', tenant: 't', episode_id: 'e', call, request_id: 'r', call_sha256: 'a'.repeat(64), requested_at: '2026-01-01T00:00:00Z' };
    // The call's own fields too: its reason travels in the event (bounded by the core's stepReasonSchema).
    const event = fc.oneof(aroundValid(step), aroundValid(call).map((hostileCall) => ({ ...step, call: hostileCall }) as HostileValue));
    await holds(
      fc.asyncProperty(event, async (event) =>
        track(
          (async () => {
            try {
              parseTrainingEvent(event);
              record('training event', { verdict: 'accepted', summary: 'parsed' }, false);
            } catch (error) {
              refusal('training event', error, (e) => e instanceof Error && e.message.startsWith('Malformed training event'));
            }
          })(),
        ),
      ),
      settings(200),
    );
  });

  it("training Lambda's answer, as the api reads it: a step view, or the refusal / dataset_unavailable / malformed-answer error with a bounded message", async () => {
    const view = { episode_id: 'e', version: 1, done: false };
    const answers = fc.oneof(
      aroundValid({ ok: true, view }),
      aroundValid({ ok: false, error: { code: 'conflict', message: 'm', details: {} } }),
      aroundValid({ ok: false, unavailable: { message: 'm', detail: { dataset: 'mnist', data_dir: 's3://b/mnist/', next_attempt_at: null } } }),
    );
    await holds(
      fc.asyncProperty(answers, async (answer) =>
        track(
          (async () => {
            try {
              const read = unwrapTrainingResponse(answer);
              const ok = typeof read === 'object' && read !== null && (answer as { ok?: unknown })?.ok === true;
              record('training answer', { verdict: ok ? 'accepted' : 'server_error', summary: 'a step view' }, false);
            } catch (error) {
              refusal(
                'training answer',
                error,
                (e) => e instanceof EpisodeServiceError || e instanceof DatasetUnavailableError || (e instanceof Error && e.message.startsWith('The training Lambda answered something')),
              );
            }
          })(),
        ),
      ),
      settings(200),
    );
  });
});

describe('CLI arguments', () => {
  const hostileText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 400 }), fc.constantFrom('', '-', '--', '0.0.0.0', '[::1]', 'http://x', 'null', '*'));

  it('ml-trainer serve access options: parsed, or a usage error', async () => {
    const flag = fc.constantFrom('--allow-host', '--allow-origin', '--max-sessions', '--max-sessions-per-tenant', '--session-idle-minutes', '--host', '--port', '--workers');
    await holds(
      fc.asyncProperty(fc.array(fc.tuple(flag, hostileText), { maxLength: 4 }), async (pairs) =>
        track(
          (async () => {
            try {
              parseServeArgs(pairs.flat(), {});
              record('serve options', { verdict: 'accepted', summary: 'parsed' }, false);
            } catch (error) {
              const parseArgsError = (e: unknown) => String((e as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
              refusal('serve options', error, (e) => e instanceof UsageError || parseArgsError(e));
            }
          })(),
        ),
      ),
      settings(300),
    );
  });

  // Warnings (an option that does not apply) go nowhere; nothing is read from stdin.
  const quietIo: CliIO = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
  const usageRefusal = (e: unknown) => e instanceof UsageError || String((e as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
  // Each after the options it requires, so that the hostile ones are what decides.
  const parsers: [string, fc.Arbitrary<string>, (argv: string[]) => unknown][] = [
    ['cost options', fc.constantFrom('--memory', '--threads', '--task', '--arch', '--price', '--max-step-seconds', '--pick-max-memory', '--json', '--bogus'), (argv) => parseCostArgv(argv, {})],
    ['cloud smoke options', fc.constantFrom('--url', '--api-key', '--out', '--epochs', '--wait', '--json', '--bogus'), (argv) => parseSmokeArgs(['--url', 'https://a1b2.execute-api.eu-west-1.amazonaws.com/prod', '--api-key', 'k', ...argv], {})],
    ['datasets upload options', fc.constantFrom('--bucket', '--region', '--prefix', '--endpoint', '--dataset', '--data-dir', '--json', '--bogus'), (argv) => parseUploadArgs(['--bucket', 'my-datasets', ...argv], {})],
    [
      'eval options',
      fc.constantFrom('--policy', '--model', '--temperature', '--llm-retries', '--policy-seed', '--agent-version', '--tasks', '--seeds', '--concurrency', '--url', '--compare', '--price-input', '--price-output', '--max-cost', '--out', '--trainer', '--json', '--resume', '--bogus'),
      (argv) => parseEvalArgv(['--policy', 'baseline', '--tasks', 'easy_mnist', '--seeds', '2', '--cache-dir', '/nonexistent/eval-cache', ...argv], quietIo),
    ],
    [
      'bench options',
      fc.constantFrom('--task', '--batch-sizes', '--epochs', '--warmup', '--rounds', '--data', '--data-dir', '--vs-pytorch', '--python', '--venv', '--pytorch-script', '--no-child', '--no-server', '--bin', '--json', '--bogus'),
      (argv) => parseBenchArgv(argv, {}),
    ],
    ['bench --parallel options', fc.constantFrom('--task', '--episodes', '--seeds', '--via', '--workers', '--trainer', '--data-dir', '--json', '--bogus'), (argv) => parseParallelBenchArgv(argv)],
  ];

  it.each(parsers)('ml-trainer %s: parsed, or a usage error', async (iface, flag, parse) => {
    await holds(
      fc.asyncProperty(fc.array(fc.tuple(flag, hostileText), { maxLength: 4 }), async (pairs) =>
        track(
          (async () => {
            try {
              parse(pairs.flat());
              record(iface, { verdict: 'accepted', summary: 'parsed' }, false);
            } catch (error) {
              refusal(iface, error, usageRefusal);
            }
          })(),
        ),
      ),
      settings(300),
    );
  });

  // The environment is a way in too: `ML_TRAINER_PORT=x npm start` reaches serve's parser.
  const switches: [string, (text: string) => unknown][] = [
    ['ML_TRAINER_PORT', (text) => parseServeArgs([], { ML_TRAINER_PORT: text })],
    ['ML_TRAINER_ALLOW_UNVERIFIED_DATA', (text) => allowsUnverifiedData({}, { ML_TRAINER_ALLOW_UNVERIFIED_DATA: text })],
    ['ML_TRAINER_WORKERS', (text) => trainerWorkerCount({}, { ML_TRAINER_WORKERS: text }, 2)],
  ];

  it.each(switches)('environment variable %s: read, or a usage error naming it', async (name, read) => {
    await holds(
      fc.asyncProperty(hostileText, async (text) =>
        track(
          (async () => {
            try {
              read(text);
              record(`env ${name}`, { verdict: 'accepted', summary: 'read' }, false);
            } catch (error) {
              refusal(`env ${name}`, error, (e) => (usageRefusal(e) || e instanceof RangeError) && (e as Error).message.includes(name));
            }
          })(),
        ),
      ),
      settings(200),
    );
  });

  it("a state dir's server.json, whatever it holds: ignored, or a server that answers; never an exception", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'hostile-discovery-'));
    const valid = { schema_version: 1, url: 'http://127.0.0.1:9', rest: 'http://127.0.0.1:9/v1', mcp: 'http://127.0.0.1:9/mcp', pid: process.pid, version: '0', started_at: '2026-01-01T00:00:00Z' };
    const content = fc.oneof(
      aroundValid(valid).map((v) => JSON.stringify(v)),
      fc.string({ unit: 'grapheme', maxLength: 400 }),
      fc.constant(`{"url":"${'x'.repeat(64 * 1024)}"}`),
    );
    try {
      await holds(
        fc.asyncProperty(content, async (text) =>
          track(
            (async () => {
              await writeFile(discoveryPath(stateDir), text);
              try {
                const found = await findServerOnStateDir(stateDir);
                record('server.json', { verdict: found.kind === 'none' ? 'rejected' : 'accepted', summary: found.kind }, false);
              } catch (error) {
                refusal('server.json', error, () => false);
              }
            })(),
          ),
        ),
        settings(60, 60_000),
      );
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('ml-trainer report <id>: an id naming no episode of the state dir: exit 2, and no file added or removed', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'hostile-report-'));
    try {
      // The first read lays out the embedded database's files; the cases compare against that.
      expect((await runCli(['report', 'no-such-episode', '--state-dir', stateDir])).code).toBe(2);
      await holds(
        fc.asyncProperty(hostileText, async (id) =>
          track(
            (async () => {
              const before = (await readdir(stateDir)).sort();
              const r = await runCli(['report', id, '--state-dir', stateDir]);
              const untouched = JSON.stringify((await readdir(stateDir)).sort()) === JSON.stringify(before);
              const ok = r.code === 2 && !/\n\s+at /.test(r.stderr) && r.stderr.length <= MESSAGE_MAX_CHARS;
              const problems = record('report ids', { verdict: ok ? 'rejected' : 'server_error', summary: `exit ${r.code}: ${r.stderr.slice(0, 200)}` }, !untouched);
              if (problems.length > 0) throw new Error(problems.join('\n'));
            })(),
          ),
        ),
        settings(30, 30_000),
      );
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 120_000);
});
