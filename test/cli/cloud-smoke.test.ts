import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDatasetsUpload } from '../../cli/commands/datasets-upload';
import { SMOKE_CHECKS, SMOKE_SEED } from '../../cli/cloud-smoke-checks';
import type { DatasetCatalog } from '../../layers/datasets/src/dataset-catalog';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { captureIO } from '../datasets/helpers/capture-io';
import { tempDir, tinyCatalog, writeTinyIdx } from '../datasets/helpers/tiny-datasets';
import { runCli } from './cli-harness';
import { startGateway, type Gateway } from './cloud-smoke-gateway';

/**
 * `ml-trainer cloud smoke` against a deployed stack served over HTTP on loopback (see
 * cloud-smoke-gateway.ts): the real api, training and grade handlers, real training on tiny
 * MNIST files that `ml-trainer datasets upload` put in the datasets bucket.
 */

const KEY = 'smoke-key-Zq8vX2pL7dN4';
const TENANT = 'k7u2mwq9ab';
/** No key in the environment the CLI sees unless a test puts it there. */
const NO_KEY = { ML_TRAINER_API_KEY: '' };

describe('ml-trainer cloud smoke against a deployed stack on loopback', () => {
  let runtime: LocalRuntime;
  let catalog: DatasetCatalog;
  let gateway: Gateway;
  let localData: string;
  let outDir: string;

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    catalog = tinyCatalog();
    localData = tempDir('mlt-smoke-local-');
    outDir = tempDir('mlt-smoke-out-');
    writeTinyIdx(localData, 'mnist', true);
    // 8 s: the first run_epochs of an episode (4 s overhead + 6 s data load + epochs) is answered 202 and polled.
    gateway = await startGateway({ runtime, catalog, lambdaDataDir: tempDir('mlt-smoke-lambda-'), keys: { [KEY]: TENANT }, apiEnv: { SYNC_STEP_BUDGET_MS: '8000' } });
  });
  afterAll(async () => {
    await gateway?.close();
    await runtime?.close();
  });

  it('--help names the options and where the key may come from; bad usage exits 2', async () => {
    const help = await runCli(['cloud', 'smoke', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/ml-trainer cloud smoke --url <ApiUrl> \[--api-key <key>\]/);
    expect(help.stdout).toMatch(/\$ML_TRAINER_API_KEY/);
    expect((await runCli(['--help'])).stdout).toMatch(/\n {2}cloud +check a deployed stack end to end/);

    const noUrl = await runCli(['cloud', 'smoke', '--api-key', KEY], '', NO_KEY);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/--url is required: the ApiUrl output of the api stack/);
    const noKey = await runCli(['cloud', 'smoke', '--url', gateway.url], '', NO_KEY);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/an API key is required: set ML_TRAINER_API_KEY \(or give --api-key\)/);
    const badEpochs = await runCli(['cloud', 'smoke', '--url', gateway.url, '--epochs', '9'], '', { ML_TRAINER_API_KEY: KEY });
    expect(badEpochs.code).toBe(2);
    expect(badEpochs.stderr).toMatch(/--epochs /);
    const notHttp = await runCli(['cloud', 'smoke', '--url', 'ftp://example.com/prod/'], '', { ML_TRAINER_API_KEY: KEY });
    expect(notHttp.code).toBe(2);
    expect(notHttp.stderr).toMatch(/--url must be an http\(s\) URL/);
  });

  it('a key API Gateway does not accept: fails at the first check, says to associate it with the usage plan, never prints the key', async () => {
    const wrongKey = 'not-the-key-4242';
    const result = await runCli(['cloud', 'smoke', '--url', gateway.url, '--api-key', wrongKey]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}tasks .*HTTP 403/);
    expect(result.stdout).toMatch(/next step: the API key is not associated with the usage plan \(or is wrong or disabled\): see infra\/README\.md, Tenants/);
    expect(result.stdout).toMatch(/FAILED at tasks \(0 of 9 checks passed\) in \d+\.\d s/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(wrongKey);
  });

  it('a URL without the stage: says to use the ApiUrl output', async () => {
    const result = await runCli(['cloud', 'smoke', '--url', gateway.url.replace('/prod/', '/'), '--json'], '', { ML_TRAINER_API_KEY: KEY });
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout);
    expect(summary.ok).toBe(false);
    expect(summary.checks).toEqual([
      { name: 'tasks', ok: false, ms: expect.any(Number), detail: expect.stringMatching(/HTTP 403 .*Missing Authentication Token/), next_step: expect.stringMatching(/^the URL does not lead to the API's routes: check --url: the ApiUrl output of the api stack, with its stage/) },
    ]);
  });

  it('before the datasets are uploaded: the training check fails and says to upload them', async () => {
    const result = await runCli(['cloud', 'smoke', '--url', gateway.url, '--out', join(outDir, 'none.html'), '--wait', '20'], '', { ML_TRAINER_API_KEY: KEY });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/ok {4}configure /);
    expect(result.stdout).toMatch(/FAIL {2}train /);
    expect(result.stdout).toMatch(/next step: .*ml-trainer datasets upload --bucket <DatasetsBucketName output> --dataset mnist/);
    expect(existsSync(join(outDir, 'none.html'))).toBe(false);
  });

  it('passes on a deployed stack with the datasets uploaded: a short episode (its step polled), the grade, usage, the report', async () => {
    const upload = captureIO({});
    expect(await runDatasetsUpload(['--bucket', runtime.config.dataBucket, '--endpoint', runtime.endpoints.s3, '--dataset', 'mnist', '--data-dir', localData], upload, { catalog })).toBe(0);

    const out = join(outDir, 'smoke.html');
    const result = await runCli(['cloud', 'smoke', '--url', gateway.url, '--out', out], '', { ML_TRAINER_API_KEY: KEY });
    expect(result.stderr).not.toMatch(/FAIL/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`smoke check of ${gateway.url} (API key from $ML_TRAINER_API_KEY; easy_mnist, seed ${SMOKE_SEED}, 2 epochs)`);
    for (const name of SMOKE_CHECKS) expect(result.stdout).toMatch(new RegExp(`\\n {2}ok {4}${name} +\\d+\\.\\d s {2}\\S`));
    expect(result.stdout).toMatch(/train +\d+\.\d s {2}step 2: 2 epochs, train_loss \d/);
    expect(result.stdout).toMatch(/passed: all 9 checks in \d+\.\d s; the episode's report: .*smoke\.html\n$/);
    // The run_epochs step was answered 202 and polled.
    expect(result.stderr).toMatch(/… run_epochs \(step [\w-]+\) (pending|running) on the server, \d+ s since it was sent/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(KEY);

    const episodeId = /episode (\S+) \(easy_mnist/.exec(result.stdout)![1]!;
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).toContain(episodeId);
    // The episode is the tenant's, graded, with the two epochs trained for real.
    const stored = await runtime.episodes.get(TENANT, episodeId);
    expect(stored?.record).toMatchObject({ status: 'submitted', budget_used: 2, seed: SMOKE_SEED });
    expect(stored?.record.grade?.score).toEqual(expect.any(Number));
    expect(gateway.trainerCalls.create + gateway.trainerCalls.restore).toBeGreaterThan(0);
  });

  it('--json: one object on stdout with every check (name, ok, ms, detail) and the report in a temporary file', async () => {
    const result = await runCli(['cloud', 'smoke', '--url', gateway.url, '--api-key', KEY, '--epochs', '1', '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toEqual({
      ok: true,
      url: gateway.url,
      task_id: 'easy_mnist',
      seed: SMOKE_SEED,
      episode_id: expect.any(String),
      report: expect.stringMatching(/ml-trainer-smoke-.*\.html$/),
      elapsed_ms: expect.any(Number),
      checks: SMOKE_CHECKS.map((name) => ({ name, ok: true, ms: expect.any(Number), detail: expect.any(String) })),
    });
    expect(summary.checks.find((c: { name: string }) => c.name === 'usage').detail).toMatch(/^3 episodes, \d+ steps/);
    expect(existsSync(summary.report)).toBe(true);
    // Progress went to stderr; the key came from --api-key and is not printed.
    expect(result.stderr).toMatch(/API key from --api-key/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(KEY);
  });
});
