import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_MAX_COST, withoutSecrets } from '../../cli/commands/eval';
import { call, FakeOpenAiServer } from '../agent/helpers/fake-openai-server';
import { storedServerForSuite } from '../server/harness';
import { runCli } from './cli-harness';

const jsonLines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l));

describe('ml-trainer eval', () => {
  let dir: string;
  let cacheDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlt-eval-'));
    cacheDir = join(dir, 'cache');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const evalCli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['eval', '--trainer', 'formula', '--cache-dir', cacheDir, ...args], '', env);

  it('has --help naming its options, the cache key and the exit codes', async () => {
    const r = await runCli(['eval', '--help']);
    expect(r.code).toBe(0);
    for (const option of ['--policy', '--tasks', '--seeds', '--concurrency', '--url', '--json', '--out', '--resume', '--compare', '--max-cost', '--price-input', '--agent-version']) {
      expect(r.stdout).toContain(option);
    }
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('(task, seed, policy, trainer version)');
    expect(r.stdout).toMatch(/Exit codes: 0 .* 1 .*2\s+bad\s+options;\s+3\s+--max-cost/s);
  });

  it.each([
    [['--policy', 'baseline', '--tasks', 'mnist', '--seeds', '2'], /--tasks must be all, or a comma-separated list of easy_mnist, medium_fashion, hard_cifar; unknown: "mnist"/],
    [['--policy', 'baseline', '--tasks', 'all', '--seeds', 'x'], /--seeds must be a count from 1 to 1000/],
    [['--policy', 'baseline', '--tasks', 'all'], /--seeds is required/],
    [['--policy', 'baseline', '--tasks', 'all', '--seeds', '2', '--concurrency', '0'], /--concurrency must be an integer from 1 to 64/],
    [['--policy', 'random', '--tasks', 'all', '--seeds', '2', '--compare', 'default,oracle'], /--compare must be none or a comma-separated list of default, baseline; unknown: oracle/],
    [['--policy', 'baseline', '--tasks', 'all', '--seeds', '2', '--max-cost', '1'], /--max-cost needs the model prices: --price-input <usd> and --price-output <usd>/],
    [['--policy', 'baseline', '--tasks', 'all', '--seeds', '2', '--price-input', '1'], /give both --price-input and --price-output/],
    [['--policy', 'baseline', '--tasks', 'all', '--seeds', '2', '--agent-version', 'x'.repeat(65)], /--agent-version must be 1 to 64 characters/],
  ])('refuses bad options with exit 2 and the allowed values: %j', async (args, message) => {
    const r = await evalCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('(see ml-trainer eval --help)');
  });

  it('--json: one line per finished episode, then the summary with intervals and the comparison rows', async () => {
    const r = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist,medium_fashion', '--seeds', '3', '--concurrency', '2', '--agent-version', 'v1', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const episodes = lines.slice(0, -1);
    expect(episodes).toHaveLength(6);
    for (const e of episodes) {
      expect(e).toMatchObject({ type: 'episode', score: expect.any(Number), status: expect.stringMatching(/submitted|auto_submitted/), training_seconds: expect.any(Number), model_cost_usd: null, report_href: null });
      expect(e.val_accuracy).toHaveLength(e.val_loss.length);
    }
    expect(episodes.map((e) => `${e.task_id}/${e.seed}`).sort()).toEqual(['easy_mnist/42', 'easy_mnist/43', 'easy_mnist/44', 'medium_fashion/123', 'medium_fashion/124', 'medium_fashion/125']);
    const summary = lines.at(-1);
    expect(summary).toMatchObject({ type: 'summary', agent: { policy: 'random', version: 'v1' }, environment: 'in-process', confidence: { level: 0.95, resamples: 10000 } });
    expect(summary.totals).toMatchObject({ episodes: 6, failed: 0, skipped: 0, cost_usd: null, model_cost_usd: null });
    const easy = summary.tasks.find((t: { task_id: string }) => t.task_id === 'easy_mnist');
    const scores = episodes.filter((e) => e.task_id === 'easy_mnist').map((e) => e.score);
    expect(easy.summary.score.mean).toBeCloseTo(scores.reduce((s: number, v: number) => s + v, 0) / 3, 10);
    expect(easy.summary.score.low).toBeLessThanOrEqual(easy.summary.score.mean);
    expect(easy.summary.score.high).toBeGreaterThanOrEqual(easy.summary.score.mean);
    expect(easy.comparisons.map((c: { policy: string }) => c.policy)).toEqual(['default', 'baseline']);
    for (const c of easy.comparisons) {
      expect(c.episodes).toBe(3);
      expect(c.difference.mean).toBeCloseTo(easy.summary.score.mean - c.score.mean, 10);
    }
    expect(r.stderr.replace(/\s+/g, ' ')).toMatch(/eval of random @v1: 6 episodes \(easy_mnist, medium_fashion\), 2 at a time, in-process/);
    expect(r.stderr).toMatch(/\d+ done, 2 running, \d+ queued: easy_mnist\/4\d epoch \d+ \(\d+\/\d+\)/);
  });

  it('prints a table per task with the interval and the difference to each reference', async () => {
    const r = await evalCli(['--policy', 'baseline', '--tasks', 'hard_cifar', '--seeds', '2', '--compare', 'default']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hard_cifar: 2 episodes, seeds 456,457');
    expect(r.stdout).toMatch(/agent +n +mean score \[95% CI\] +median +min +max\n/);
    expect(r.stdout).toMatch(/\n {2}baseline +2 +0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]/);
    expect(r.stdout).toMatch(/\n {2}default \(reference\) +2 +0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]\n/);
    expect(r.stdout).toMatch(/\n {2}baseline per episode: [\d.]+ epochs, [\d.]+ steps, [\d.]+ s training\n/);
    expect(r.stdout).toMatch(/\n {2}difference to default \[95% CI\]: [+-]0\.\d{4} \[[+-]0\.\d{4}, [+-]0\.\d{4}\]\n/);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/Intervals: 95% percentile bootstrap of the mean \(10000 resamples, seed \d+\)/);
  });

  it('plays a reference once: later evals read its scores from the cache, and play only seeds it lacks', async () => {
    const first = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '2', '--compare', 'default', '--json']);
    expect(first.stderr).toContain('playing the default policy on 2 seeds for the comparison');
    const cache = JSON.parse(readFileSync(join(cacheDir, 'eval-reference-scores.json'), 'utf8'));
    const keys = Object.keys(cache.entries).map((k) => JSON.parse(k));
    expect(keys).toEqual(
      expect.arrayContaining([
        ['easy_mnist', 42, 'default', expect.stringMatching(/^ml-trainer \d+\.\d+\.\d+; trainer formula; in-process$/)],
        ['easy_mnist', 43, 'default', expect.any(String)],
      ]),
    );
    const again = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '2', '--compare', 'default', '--json']);
    expect(again.stderr).not.toContain('playing the default policy');
    expect(jsonLines(again.stdout).at(-1).tasks[0].comparisons).toEqual(jsonLines(first.stdout).at(-1).tasks[0].comparisons);
    const more = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '3', '--compare', 'default', '--json']);
    expect(more.stderr).toContain('playing the default policy on 1 seeds');
  });

  it('scores on unverified data are cached apart from the others', async () => {
    await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '1', '--compare', 'default']);
    const r = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '1', '--compare', 'default', '--allow-unverified-data']);
    expect(r.stderr).toContain('playing the default policy on 1 seeds');
    const keys = Object.keys(JSON.parse(readFileSync(join(cacheDir, 'eval-reference-scores.json'), 'utf8')).entries).map((k) => JSON.parse(k)[3]);
    expect(keys.sort()).toEqual([expect.stringMatching(/trainer formula on unverified data; in-process$/), expect.stringMatching(/trainer formula; in-process$/)]);
    // The environment's switch is the flag's twin: its scores must not be served from the verified ones.
    const ownCache = ['--cache-dir', mkdtempSync(join(tmpdir(), 'eval-env-cache-'))];
    await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '1', '--compare', 'default', ...ownCache]);
    const viaEnv = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '1', '--compare', 'default', ...ownCache], { ML_TRAINER_ALLOW_UNVERIFIED_DATA: '1' });
    expect(viaEnv.stderr).toContain('playing the default policy on 1 seeds');
  });

  it('an eval of a reference policy fills the cache itself', async () => {
    await evalCli(['--policy', 'baseline', '--tasks', 'easy_mnist', '--seeds', '2', '--compare', 'none']);
    const r = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '2', '--compare', 'baseline']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('playing the baseline policy');
    expect(r.stdout).toMatch(/baseline \(reference\) +2 /);
  });

  it('--resume after an interruption plays only the episodes the journal lacks; other options are refused', async () => {
    const out = join(dir, 'eval.html');
    const args = ['--policy', 'random', '--tasks', 'easy_mnist,hard_cifar', '--seeds', '2', '--compare', 'none', '--out', out, '--json'];
    const full = await evalCli(args);
    expect(full.code).toBe(0);
    const journalPath = `${out}.journal.jsonl`;
    const journal = readFileSync(journalPath, 'utf8').trim().split('\n');
    expect(journal).toHaveLength(5);
    // As a kill leaves it: two episodes written, the third torn mid-line.
    writeFileSync(journalPath, `${journal.slice(0, 3).join('\n')}\n${journal[3].slice(0, 40)}`);
    const finished = journal.slice(1, 3).map((l) => JSON.parse(l).episode);

    const resumed = await evalCli([...args, '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr.replace(/\s+/g, ' ')).toContain(`2 resumed from ${journalPath}`);
    const lines = jsonLines(resumed.stdout);
    const again = lines.filter((l) => l.resumed);
    expect(again.map((l) => `${l.task_id}/${l.seed}`)).toEqual(finished.map((e: { task_id: string; seed: number }) => `${e.task_id}/${e.seed}`));
    expect(lines.filter((l) => l.type === 'episode' && !l.resumed)).toHaveLength(2);
    expect(lines.at(-1).totals.episodes).toBe(4);
    // The same scores as the uninterrupted run.
    const scores = (ls: { type: string; task_id: string; seed: number; score: number }[]) =>
      Object.fromEntries(ls.filter((l) => l.type === 'episode').map((l) => [`${l.task_id}/${l.seed}`, l.score]));
    expect(scores(lines)).toEqual(scores(jsonLines(full.stdout)));
    expect(readFileSync(journalPath, 'utf8').trim().split('\n').filter((l) => l.includes('"type":"episode"'))).toHaveLength(4);

    const other = await evalCli(['--policy', 'random', '--tasks', 'easy_mnist,hard_cifar', '--seeds', '3', '--compare', 'none', '--out', out, '--resume']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('is the journal of an eval with other options');
    expect(other.stderr).toMatch(/--seeds: \[.*\] in the journal, \[.*\] now/);
    expect(other.stderr).toContain('leave out --resume to start afresh');
  });

  it('--out writes the eval report and each episode\'s report beside it, linked', async () => {
    const out = join(dir, 'eval.html');
    const r = await evalCli(['--policy', 'baseline', '--tasks', 'easy_mnist', '--seeds', '2', '--compare', 'none', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const episodes = jsonLines(r.stdout).slice(0, -1);
    expect(episodes.map((e) => e.report_href)).toEqual(['eval-episodes/easy_mnist-seed42.html', 'eval-episodes/easy_mnist-seed43.html']);
    expect(existsSync(join(dir, 'eval-episodes', 'easy_mnist-seed42.html'))).toBe(true);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<html');
    expect(html).toContain('eval-episodes/easy_mnist-seed43.html');
  });

  it('a journal or report that cannot be written is a usage error naming the path; a cache that cannot be, a warning', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await evalCli(['--policy', 'baseline', '--tasks', 'easy_mnist', '--seeds', '1', '--compare', 'none', '--out', join(file, 'eval.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot write the eval's journal ${join(file, 'eval.html')}.journal.jsonl`);
    expect(r.stderr).toContain('give --out a path in a writable folder');
    const cached = await runCli(['eval', '--trainer', 'formula', '--cache-dir', file, '--policy', 'random', '--tasks', 'easy_mnist', '--seeds', '1', '--compare', 'default', '--out', join(dir, 'e.html')]);
    expect(cached.code).toBe(0);
    expect(cached.stderr).toContain('warning: cannot write the reference score cache');
    expect(cached.stdout).toMatch(/default \(reference\) +1 /);
  });

  it('the report\'s command line leaves out an API key', () => {
    expect(withoutSecrets(['--url', 'https://x', '--api-key', 'sekrit', '--json'])).toEqual(['--url', 'https://x', '--api-key', '***', '--json']);
    expect(withoutSecrets(['--api-key=sekrit'])).toEqual(['--api-key=***']);
  });

  describe('--max-cost', () => {
    const server = new FakeOpenAiServer(() => ({ content: 'done', tool_calls: [call('submit_model')] }));
    let base: string;
    beforeAll(async () => {
      base = await server.start();
    });
    afterAll(() => server.stop());

    it('stops starting episodes once the spent model cost plus the next at the mean would exceed it (exit 3)', async () => {
      // Each episode: one request of 10 prompt + 5 completion tokens = $0.02 at these prices.
      const r = await evalCli(
        ['--policy', 'llm', '--model', 'scripted', '--tasks', 'easy_mnist', '--seeds', '6', '--compare', 'none', '--price-input', '1000', '--price-output', '2000', '--max-cost', '0.05', '--json'],
        { OPENAI_BASE_URL: base, OPENAI_API_KEY: 'k' },
      );
      expect(r.code).toBe(EXIT_MAX_COST);
      const lines = jsonLines(r.stdout);
      const episodes = lines.filter((l) => l.type === 'episode');
      expect(episodes).toHaveLength(2);
      expect(episodes[0]).toMatchObject({ model_usage: { model: 'scripted', prompt_tokens: 10, completion_tokens: 5 }, model_cost_usd: 0.02 });
      expect(lines.at(-1).totals).toMatchObject({ episodes: 2, skipped: 4, model_cost_usd: 0.04, prompt_tokens: 20, completion_tokens: 10 });
      expect(r.stderr).toContain('--max-cost 0.05 USD: spent 0.0400 USD; no more episodes are started (4 skipped)');
    });
  });

  describe('a chat API that fails', () => {
    it('an episode it fails is listed with what the model spent before; the others are played (exit 1)', async () => {
      // Per episode: a configure call, then a 400 (not retried) on the next request.
      const server = new FakeOpenAiServer((_request, index) => (index % 2 === 0 ? { tool_calls: [call('configure_training')] } : { status: 400 }));
      const base = await server.start();
      try {
        const r = await evalCli(['--policy', 'llm', '--model', 'scripted', '--tasks', 'easy_mnist', '--seeds', '2', '--compare', 'none', '--price-input', '1000', '--price-output', '2000', '--json'], {
          OPENAI_BASE_URL: base,
          OPENAI_API_KEY: 'k',
        });
        expect(r.code).toBe(1);
        const episodes = jsonLines(r.stdout).filter((l) => l.type === 'episode');
        expect(episodes).toHaveLength(2);
        for (const e of episodes) {
          expect(e).toMatchObject({ status: 'failed', score: null, error: expect.stringContaining('400'), model_usage: { prompt_tokens: 10, completion_tokens: 5 }, model_cost_usd: 0.02 });
        }
        expect(r.stderr).toMatch(/failed: easy_mnist seed 42: .*400/);
      } finally {
        await server.stop();
      }
    });

    it('refused credentials stop the eval at the first episode (every other would fail the same way)', async () => {
      const server = new FakeOpenAiServer(() => ({ status: 401 }));
      const base = await server.start();
      try {
        const r = await evalCli(['--policy', 'llm', '--model', 'scripted', '--tasks', 'easy_mnist', '--seeds', '5', '--compare', 'none'], { OPENAI_BASE_URL: base, OPENAI_API_KEY: 'bad' });
        expect(r.code).toBe(1);
        expect(server.requests).toHaveLength(1);
        expect(r.stderr).toMatch(/the chat API answered 401.*check OPENAI_API_KEY/);
        expect(r.stderr).toContain('run again with --resume once the chat API accepts the request');
      } finally {
        await server.stop();
      }
    });
  });

  describe('--url against a local server', () => {
    const server = storedServerForSuite();

    it('gives the same scores as in-process on the same seeds, and links each episode to the server\'s report', async () => {
      const args = ['--policy', 'baseline', '--tasks', 'easy_mnist,medium_fashion', '--seeds', '2', '--concurrency', '2', '--compare', 'none', '--json'];
      const local = await evalCli(args);
      const remote = await runCli(['eval', ...args, '--url', server.base, '--tenant', 'evals', '--cache-dir', cacheDir]);
      expect(remote.code).toBe(0);
      const byKey = (text: string) =>
        Object.fromEntries(jsonLines(text).filter((l) => l.type === 'episode').map((l) => [`${l.task_id}/${l.seed}`, l]));
      const here = byKey(local.stdout);
      const there = byKey(remote.stdout);
      expect(Object.keys(there).sort()).toEqual(Object.keys(here).sort());
      for (const key of Object.keys(here)) {
        expect(there[key].score).toBe(here[key].score);
        expect(there[key].epochs_used).toBe(here[key].epochs_used);
        expect(there[key].val_accuracy).toEqual(here[key].val_accuracy);
        expect(there[key].training_seconds).toEqual(expect.any(Number));
        expect(there[key].report_href).toBe(`${server.base}/dashboard/episodes/${there[key].episode_id}/report.html?tenant=evals`);
      }
      const summary = jsonLines(remote.stdout).at(-1);
      expect(summary.environment).toBe(server.base);
      // The local server has no GET /v1/usage: no cost.
      expect(summary.totals.cost_usd).toBeNull();
    });
  });
});
