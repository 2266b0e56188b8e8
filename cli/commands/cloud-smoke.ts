import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runSmoke, SMOKE_CHECKS, SMOKE_SEED, SMOKE_TASK, type SmokeCheck } from '../cloud-smoke-checks';
import { UsageError, type CliIO } from '../command';

/** Where the API key comes from when --api-key is not given (keeps it out of shell history). */
export const API_KEY_ENV = 'ML_TRAINER_API_KEY';

export const CLOUD_SMOKE_USAGE = '  ml-trainer cloud smoke --url <ApiUrl> [--api-key <key>] [--out <file>] [--epochs N] [--wait <seconds>] [--json]';

export const CLOUD_SMOKE_DETAILS = `smoke  the post-deploy check of a deployed stack, through its REST API as a tenant uses it:
       lists the tasks; plays a short ${SMOKE_TASK} episode (seed ${SMOKE_SEED}): create,
       configure, train a few epochs (a step answered 202 is polled until done), read it back,
       submit; waits for its grade; reads the tenant's usage (GET /v1/usage); renders the
       episode's HTML report here. Each check is printed as it ends, then a pass/fail summary
       with the elapsed time. A failed check ends the run and says what to do next.
       Exit code 0: every check passed; 1: a check failed; 2: bad usage.
       It creates one real episode (it counts against the tenant's episode quota); its AWS
       usage is a few seconds of training, well under a cent.

Options (smoke):
  --url <url>        the API's base URL: the ApiUrl output of the api stack (with its stage,
                     e.g. https://<id>.execute-api.<region>.amazonaws.com/prod/)
  --api-key <key>    the tenant's API key, sent as x-api-key (default: $${API_KEY_ENV}; prefer
                     the variable, which keeps the key out of shell history). Never printed.
  --out <file>       where the HTML report goes (default: a temporary file, printed)
  --epochs <n>       epochs to train, 1-5 (default 2)
  --wait <seconds>   the longest wait for an asynchronous step, and for the grade (default 600)
  --json             print one JSON object: {ok, url, task_id, seed, episode_id, report,
                     elapsed_ms, checks: [{name, ok, ms, detail, next_step?}]}; progress
                     goes to stderr`;

const DEFAULT_EPOCHS = 2;
const DEFAULT_WAIT_SECONDS = 600;

const smokeArgs = z.object({
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL: the ApiUrl output of the api stack' })
    .optional(),
  'api-key': z.string().trim().min(1, 'must not be empty').optional(),
  out: z.string().min(1, 'must name a file').optional(),
  epochs: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(5).default(DEFAULT_EPOCHS),
  wait: z.coerce.number({ error: 'must be a number' }).positive().max(3600).default(DEFAULT_WAIT_SECONDS),
  json: z.boolean().default(false),
});

interface SmokeRequest {
  url: string;
  apiKey: string;
  /** Where it came from, for the banner (never the key itself). */
  apiKeySource: string;
  out: string | undefined;
  epochs: number;
  waitSeconds: number;
  json: boolean;
}

export function parseSmokeArgs(argv: string[], env: NodeJS.ProcessEnv): SmokeRequest {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      wait: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const result = smokeArgs.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0])} ${issue.message}`);
  }
  const v = result.data;
  if (v.url === undefined) throw new UsageError('--url is required: the ApiUrl output of the api stack');
  const fromEnv = env[API_KEY_ENV]?.trim();
  const apiKey = v['api-key'] ?? (fromEnv || undefined);
  if (apiKey === undefined) throw new UsageError(`an API key is required: set ${API_KEY_ENV} (or give --api-key); see infra/README.md, Tenants`);
  return {
    url: v.url,
    apiKey,
    apiKeySource: v['api-key'] !== undefined ? '--api-key' : `$${API_KEY_ENV}`,
    out: v.out,
    epochs: v.epochs,
    waitSeconds: v.wait,
    json: v.json,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const NAME_WIDTH = Math.max(...SMOKE_CHECKS.map((name) => name.length));

function checkLine(check: SmokeCheck): string {
  const head = `  ${check.ok ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(NAME_WIDTH)}  ${seconds(check.ms).padStart(7)}  ${check.detail}`;
  return check.next_step ? `${head}\n        next step: ${check.next_step}\n` : `${head}\n`;
}

/** `ml-trainer cloud smoke`: 0 every check passed, 1 a check failed; bad usage throws UsageError (2). */
export async function runCloudSmoke(argv: string[], io: CliIO): Promise<number> {
  const request = parseSmokeArgs(argv, io.env);
  const started = Date.now();
  // With --json stdout carries the one object: progress and check lines go to stderr.
  const lines = request.json ? io.stderr : io.stdout;
  lines.write(`smoke check of ${request.url} (API key from ${request.apiKeySource}; ${SMOKE_TASK}, seed ${SMOKE_SEED}, ${request.epochs} epochs)\n`);
  const outcome = await runSmoke({
    url: request.url,
    apiKey: request.apiKey,
    epochs: request.epochs,
    waitMs: request.waitSeconds * 1000,
    out: (episodeId) => request.out ?? join(tmpdir(), `ml-trainer-smoke-${episodeId.replace(/[^A-Za-z0-9._-]/g, '_')}.html`),
    onCheck: (check) => lines.write(checkLine(check)),
    onProgress: (line) => io.stderr.write(`        … ${line}\n`),
  });
  const elapsed = Date.now() - started;
  const ok = outcome.checks.length === SMOKE_CHECKS.length && outcome.checks.every((c) => c.ok);
  const failed = outcome.checks.find((c) => !c.ok);
  if (request.json) {
    const summary = { ok, url: request.url, task_id: SMOKE_TASK, seed: SMOKE_SEED, episode_id: outcome.episode_id, report: outcome.report, elapsed_ms: elapsed, checks: outcome.checks };
    io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (ok) {
    io.stdout.write(`passed: all ${SMOKE_CHECKS.length} checks in ${seconds(elapsed)}; the episode's report: ${outcome.report}\n`);
  } else {
    const passed = outcome.checks.filter((c) => c.ok).length;
    io.stdout.write(`FAILED at ${failed?.name} (${passed} of ${SMOKE_CHECKS.length} checks passed) in ${seconds(elapsed)}\nnext step: ${failed?.next_step}\n`);
  }
  return ok ? 0 : 1;
}
