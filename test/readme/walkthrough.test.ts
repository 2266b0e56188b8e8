import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM, describeBrowser, LAUNCH_ARGS, watch } from '../reports/chromium';
import { freePort, interruptNodeRunning, killGroup, pathWithCheckoutNpm, runShell, startShell, type ShellRun } from './literal-shell';
import { localized, printedEpisodeId, quickStartOf } from './quick-start';
import { writeSyntheticMnist } from './synthetic-mnist';

/*
 * Issue 15's README walkthrough: the quick start's commands, taken from README.md and run as
 * written through bash, so the README cannot drift from the product. The only changes are the
 * documented ones: `npm ci && ` is dropped (CI has just run it); the environment gives a free
 * port (ML_TRAINER_PORT), a scratch home, a synthetic MNIST in the README's offline layout
 * (ML_TRAINER_DATA_DIR, ML_TRAINER_ALLOW_UNVERIFIED_DATA=1), a scratch cache, and `npm`/`npx`
 * of this checkout; 127.0.0.1:8000 becomes that port and <episode-id> the id the agent printed.
 * `npm start` runs bin/ml-trainer.js, i.e. dist/: `npm ci` builds it, `node scripts/build.mjs` after a change.
 */
const REPO = resolve(__dirname, '..', '..');
const SCREENSHOTS = join(REPO, 'test-artifacts', 'readme');
const quickStart = quickStartOf(readFileSync(join(REPO, 'README.md'), 'utf8'));

describe('the README quick start, run literally', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'mlt-readme-'));
  const work = join(scratch, 'work');
  let port: number;
  let env: NodeJS.ProcessEnv;
  let server: ShellRun | undefined;
  let episodeId: string | undefined;
  const outputs: string[] = [];
  const transcripts: string[] = [];

  beforeAll(async () => {
    mkdirSync(work);
    writeSyntheticMnist(join(scratch, 'data'));
    port = await freePort();
    env = {
      ...withoutOwnSettings(process.env),
      PATH: pathWithCheckoutNpm(REPO, join(scratch, 'bin'), process.env.PATH ?? ''),
      ML_TRAINER_PORT: String(port),
      ML_TRAINER_HOME: join(scratch, 'home'),
      ML_TRAINER_DATA_DIR: join(scratch, 'data'),
      ML_TRAINER_ALLOW_UNVERIFIED_DATA: '1',
      XDG_CACHE_HOME: join(scratch, 'cache'),
    };
  });
  afterAll(() => {
    killGroup(server);
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`starts the server: ${quickStart.start}`, async () => {
    server = startShell(quickStart.start, work, env);
    await untilAnswering(`http://127.0.0.1:${port}/v1/tasks`, server);
  }, 90_000);

  it.each(quickStart.commands)('runs %s', async (command) => {
    if (server === undefined) throw new Error('the server did not start (see the first test)');
    const run = await runShell(localized(command, port, episodeId), work, env);
    const transcript = `$ ${command}\n${run.stdout}${run.stderr}`;
    transcripts.push(transcript);
    expect({ exit: run.code, transcript }).toEqual({ exit: 0, transcript });
    episodeId ??= printedEpisodeId(run.stdout);
    outputs.push(...outFiles(command));
  }, 180_000);

  it('the agent printed the episode id; every --out file exists and names the episode', () => {
    expect({ episodeId, transcripts }).toEqual({ episodeId: expect.any(String), transcripts });
    expect(outputs.length).toBeGreaterThan(0);
    for (const file of outputs) expect(readFileSync(join(work, file), 'utf8')).toContain(episodeId);
  });

  describeBrowser('the dashboard in headless Chromium', () => {
    let browser: Browser | undefined;
    afterAll(async () => {
      await browser?.close();
    });

    it(`lists the episode at ${quickStart.dashboard}`, async () => {
      if (episodeId === undefined) throw new Error('no episode was played (see the tests above)');
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      const problems = watch(page);
      const response = await page.goto(localized(quickStart.dashboard, port));
      expect(response?.status()).toBe(200);
      await page.locator(`a[href*="${episodeId}"]`).first().waitFor({ state: 'visible', timeout: 15_000 });
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'quick-start-dashboard.png'), fullPage: true });
      expect(problems).toEqual([]);
    }, 60_000);
  });

  it('SIGINT stops the server; it and `npm start` exit 0', async () => {
    if (server === undefined) throw new Error('the server did not start (see the first test)');
    interruptNodeRunning(server, 'ml-trainer.js');
    const code = await server.exited;
    const { stdout, stderr } = server.output();
    expect({ exit: code, output: stdout + stderr }).toEqual({ exit: 0, output: stdout + stderr });
  }, 30_000);
});

/** The caller's own ML_TRAINER_* settings would change what the README's commands do. */
function withoutOwnSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('ML_TRAINER_')));
}

/** The files a command names with --out, relative to where it runs. */
function outFiles(command: string): string[] {
  return [...command.matchAll(/--out\s+(\S+)/g)].map((m) => m[1]);
}

async function untilAnswering(url: string, server: ShellRun, patienceMs = 80_000): Promise<void> {
  const giveUp = Date.now() + patienceMs;
  for (;;) {
    const { stdout, stderr } = server.output();
    if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`the server exited before answering ${url}:\n${stdout}${stderr}`);
    if (Date.now() > giveUp) throw new Error(`no answer from ${url} after ${patienceMs / 1000} s; the server said:\n${stdout}${stderr}`);
    const answered = await fetch(url).then((r) => r.ok, () => false);
    if (answered) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}
