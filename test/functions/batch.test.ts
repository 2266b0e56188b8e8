import { handler as findEpisodes } from '../../functions/batch/find-episodes';
import { handler as gradeBatch } from '../../functions/batch/grade-batch';
import { handler as writeReport } from '../../functions/batch/write-report';
import type { FindEpisodesResult, FoundEpisode } from '../../layers/cloud/src';
import { lambdaContext } from '../../layers/cloud/src/invokers';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { startCloud, testClock, type Cloud } from './helpers';

/**
 * One batch run as Step Functions drives it (functions/README.md, "Batch run"), through the
 * handlers' real entry points configured by environment variables (storageConfigFromEnv with
 * the local endpoints): find-episodes on the scheduler's input writes the manifest →
 * grade-batch on batches of its lines → the map's result files (written here in the
 * ResultWriter's documented layout; the synthesized definition itself runs in
 * test/deployed) → write-report, whose objects land in the s3rver reports bucket.
 */

const DAY = 86_400_000;
const LLM = { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' };

describe('a batch run: find → auto-submit → grade → write-report', () => {
  let runtime: LocalRuntime;
  let now: Cloud;
  let past: Cloud;
  const saved = { ...process.env };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    Object.assign(process.env, {
      AWS_REGION: runtime.config.region,
      EPISODES_TABLE: runtime.config.tableName,
      CHECKPOINT_BUCKET: runtime.config.checkpointBucket,
      DATA_BUCKET: runtime.config.dataBucket,
      REPORTS_BUCKET: runtime.config.reportsBucket,
      REPORTS_PREFIX: 'reports/',
      DYNAMODB_ENDPOINT: runtime.endpoints.dynamodb,
      S3_ENDPOINT: runtime.endpoints.s3,
      LOCAL_ENDPOINT: '1',
      ABANDON_AFTER_HOURS: '24',
      MAX_EPISODES_PER_RUN: '50',
    });
    // Two api deployments over the same tables: one living two days ago, one now.
    past = await startCloud({ runtime, clock: testClock(Date.now() - 2 * DAY), apiEnv: { SYNC_STEP_BUDGET_MS: '600000' } });
    now = await startCloud({ runtime, apiEnv: { SYNC_STEP_BUDGET_MS: '600000' } });

    const play = async (cloud: Cloud, apiKeyId: string, taskId: string, calls: { tool: string; arguments?: object }[], agent?: object) => {
      const created = await cloud.api('POST', '/v1/episodes', { apiKeyId, body: { task_id: taskId, ...(agent ? { agent } : {}) } });
      expect(created.status).toBe(201);
      for (const call of calls) expect((await cloud.api('POST', `/v1/episodes/${created.json.episode_id}/steps`, { apiKeyId, body: call })).status).toBe(200);
      return created.json.episode_id as string;
    };
    const configure = { tool: 'configure_training', arguments: {} };
    ids.submittedA = await play(now, 'tenant-a', 'easy_mnist', [configure, { tool: 'run_epochs', arguments: { num_epochs: 10 } }, { tool: 'submit_model' }], LLM);
    ids.submittedB = await play(now, 'tenant-b', 'easy_mnist', [configure, { tool: 'run_epochs', arguments: { num_epochs: 4 } }, { tool: 'submit_model' }]);
    ids.abandonedB = await play(past, 'tenant-b', 'hard_cifar', [configure, { tool: 'run_epochs', arguments: { num_epochs: 6 } }], { policy: 'baseline' });
    ids.activeA = await play(now, 'tenant-a', 'easy_mnist', [configure]);
  });
  afterAll(async () => {
    await past?.close();
    await now?.close();
    await runtime?.close();
    process.env = saved;
  });

  const ctx = (name: string) => lambdaContext({ functionName: name, memoryMb: 512 });
  let firstUntil: string;

  it('runs the whole flow and writes the JSON report and the HTML leaderboard', async () => {
    const startedAt = new Date().toISOString();
    const found = found1(await findEpisodes({ run_id: 'run-1', started_at: startedAt, request: { trigger: 'schedule' } }, ctx('find')));
    expect(found.until).toBe(startedAt);
    expect(found.truncated).toBe(false);
    const manifest = await manifestOf(found);
    expect(manifest).toEqual(
      expect.arrayContaining([
        { tenant: 'tenant-a', episode_id: ids.submittedA, abandoned: false },
        { tenant: 'tenant-b', episode_id: ids.submittedB, abandoned: false },
        { tenant: 'tenant-b', episode_id: ids.abandonedB, abandoned: true },
      ]),
    );
    expect(manifest).toHaveLength(3); // not the recently used active one
    expect(found.counts).toEqual({ ended: 2, abandoned: 1, total: 3, carried_over: 0 });
    expect(found.has_episodes).toBe(true);
    firstUntil = found.until;

    // The distributed map: batches of two (ItemBatcher), each one grade-batch invocation; its answers flattened into a JSONL result file.
    const answers: unknown[] = [];
    for (let i = 0; i < manifest.length; i += 2) {
      const entries = await gradeBatch({ run_id: 'run-1', episodes: manifest.slice(i, i + 2) }, ctx('grade-batch'));
      answers.push(...entries);
    }
    expect(answers).toHaveLength(3);
    expect(answers.every((a: any) => a.status === 'graded')).toBe(true);
    // A child workflow that failed (Lambda timed out), as the ResultWriter records it unchanged: its batch's episodes are reported as errors.
    const failedChild = {
      ExecutionArn: 'arn:aws:states:eu-west-1:123456789012:express:batch:run-1:child-9',
      Input: JSON.stringify({ Items: [{ tenant: 'tenant-c', episode_id: 'ep-x', abandoned: false }], BatchInput: { run_id: 'run-1' } }),
      InputDetails: { Included: true },
      Name: 'child-9',
      Status: 'FAILED',
      Error: 'Lambda.Unknown',
      Cause: '<script>alert("x")</script>',
    };
    const graded = await writeMapResults('run-1', answers, [failedChild]);

    const abandoned = await now.api('GET', `/v1/episodes/${ids.abandonedB}`, { apiKeyId: 'tenant-b' });
    expect(abandoned.json).toMatchObject({ status: 'auto_submitted', step_count: 2, usage: { steps: 2, epochs_trained: 6 } });
    expect(abandoned.json.grade.score).toBeGreaterThan(0);

    const written = (await writeReport({ run_id: 'run-1', started_at: startedAt, found, graded }, ctx('write-report')))!;
    const day = startedAt.slice(0, 10);
    expect(written).toEqual({
      report_key: `reports/${day}/run-1/report.json`,
      leaderboard_key: `reports/${day}/run-1/leaderboard.html`,
      leaderboard_by_episode_key: `reports/${day}/run-1/leaderboard-by-episode.html`,
      counts: { episodes: 4, graded: 3, error: 1, carried_over: 0 },
      continue: false,
    });

    const report = JSON.parse(Buffer.from((await runtime.reports.get(written.report_key))!).toString('utf8'));
    expect(report).toMatchObject({ run_id: 'run-1', since: found.since, until: found.until, truncated: false, counts: { episodes: 4, graded: 3, error: 1 } });
    expect(report.leaderboards.easy_mnist.map((e: any) => e.episode_id)).toEqual([ids.submittedA, ids.submittedB]); // 10 epochs beat 4
    expect(report.leaderboards.easy_mnist[0]).toMatchObject({ rank: 1, tenant: 'tenant-a', agent: 'llm gpt-4o-mini @v3', epochs: 10, ended: 'submitted', grade_matches: true });
    expect(report.leaderboards.easy_mnist[1]).toMatchObject({ tenant: 'tenant-b', agent: 'unlabelled' });
    expect(report.leaderboards.hard_cifar).toEqual([expect.objectContaining({ rank: 1, episode_id: ids.abandonedB, agent: 'baseline', ended: 'auto_submitted', epochs: 6 })]);
    // Per task, a summary per agent, with the labels read from the episode items.
    expect(report.agents.easy_mnist.map((a: any) => [a.agent, a.episodes, a.best_episode.episode_id])).toEqual([
      ['llm gpt-4o-mini @v3', 1, ids.submittedA],
      ['unlabelled', 1, ids.submittedB],
    ]);
    // The entries themselves stay in the map's result files, labelled by grade-batch from the store.
    expect(report.results).toEqual({ bucket: runtime.config.reportsBucket, manifest_key: graded.ResultWriterDetails.Key });
    expect((answers as any[]).find((r) => r.episode_id === ids.submittedA).agent).toEqual(LLM);
    expect((answers as any[]).find((r) => r.episode_id === ids.submittedB)).not.toHaveProperty('agent');
    // Cost: the per-episode price plus the training Lambda's metering (250 ms × 10 GB per invocation in these tests):
    // one invocation, its run_epochs step (configure and submit execute in the api Lambda).
    const costA = report.leaderboards.easy_mnist[0].cost_usd;
    expect(costA).toBeCloseTo(0.1 + 1 * 2.5 * 0.0000166667 + 1 * 0.0000002, 6);
    expect(report.unranked).toEqual([expect.objectContaining({ status: 'error', episode_id: 'ep-x', error: 'Lambda.Unknown: <script>alert("x")</script>' })]);

    const headOf = await runtime.reports.head(written.leaderboard_key);
    expect(headOf?.contentType).toMatch(/^text\/html/);
    const html = Buffer.from((await runtime.reports.get(written.leaderboard_key))!).toString('utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    // The product leaderboard (layers/reports): per task, ranked, with the baseline agent's score (BASELINE_SCORES' defaults).
    expect(html).toContain('<h2 id="task-easy-mnist-heading">MNIST Digit Classifier <small class="muted"><code>easy_mnist</code></small></h2>');
    const mnist = html.slice(html.indexOf('id="task-easy-mnist-heading"'), html.indexOf('id="task-medium-fashion-heading"'));
    expect([...mnist.matchAll(/<tr><th scope="row" class="num">(\d+)<\/th><td><code>([^<]+)<\/code>/g)].map((m) => [Number(m[1]), m[2]])).toEqual([
      [1, ids.submittedA],
      [2, ids.submittedB],
    ]);
    expect(mnist).toContain('<dt>Baseline agent score</dt><dd>0.9999</dd>');
    // Grouped by agent: the agents ranked by mean score, each episode's agent and tenant in the ranking folded below.
    expect(mnist).toMatch(/<td>llm gpt-4o-mini @v3<\/td><td class="num">1<\/td>[\s\S]*<td>unlabelled<\/td><td class="num">1<\/td>/);
    expect(mnist).toContain(`<td><code>${ids.submittedA}</code></td><td>llm gpt-4o-mini @v3</td><td><code>tenant-a</code></td>`);
    expect(mnist).toContain('Score distribution of 2 graded episodes');
    expect(mnist).toContain('10 <small class="muted">/ 100</small>'); // epochs used of the budget
    expect(mnist).toContain('$0.10'); // the cost
    expect(html).toContain('<dt>Baseline agent score</dt><dd>0.8506</dd>');
    expect(html).toContain('<dt>Baseline agent score</dt><dd>0.9803</dd>');
    expect(report.baselines).toEqual({ easy_mnist: 0.9999, medium_fashion: 0.8506, hard_cifar: 0.9803 });
    expect(html).toContain('Lambda.Unknown: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html).not.toMatch(/\bsrc="/i);
    // Links within the page, and to the same leaderboard by episode (next to it in the bucket).
    for (const [, href] of html.matchAll(/\bhref="([^"]*)"/g)) expect(href).toMatch(/^(#[\w-]+|leaderboard(-by-episode)?\.html)$/);
    expect(html).toContain('<a href="leaderboard.html" aria-current="page">by agent</a> · <a href="leaderboard-by-episode.html">by episode</a>');

    const byEpisode = Buffer.from((await runtime.reports.get(written.leaderboard_by_episode_key))!).toString('utf8');
    expect(byEpisode).toContain('<a href="leaderboard.html">by agent</a> · <a href="leaderboard-by-episode.html" aria-current="page">by episode</a>');
    expect(byEpisode).not.toContain('agents ranked by mean score');
    expect(byEpisode).toContain(`<td><code>${ids.submittedA}</code></td><td>llm gpt-4o-mini @v3</td>`);
  });

  it('starts the next run where this one ended and does not report an episode twice', async () => {
    const later = new Date(Date.now() + 1000).toISOString();
    const found = found1(await findEpisodes({ run_id: 'run-2', started_at: later, request: { trigger: 'schedule' } }, ctx('find')));
    expect(found.since).toBe(firstUntil);
    // The abandoned episode ended (auto-submitted) after run-1's until, but run-1 reported it already.
    expect(await manifestOf(found)).toEqual([]);
    expect(found.has_episodes).toBe(false);
    // Another run while run-2 holds the window: it ends without grading.
    expect(await findEpisodes({ run_id: 'manual-0', started_at: later, request: { trigger: 'manual' } }, ctx('find'))).toMatchObject({ status: 'busy', held_by: 'run-2' });
    // Nothing to grade: the map is skipped ({}), the report is written and the window released.
    const written = await writeReport({ run_id: 'run-2', started_at: later, found, graded: {} }, ctx('write-report'));
    expect(written).toMatchObject({ counts: { episodes: 0, carried_over: 0 }, continue: false });
    // A manual run over a chosen window sees the ended episodes again.
    const manual = found1(
      await findEpisodes({ run_id: 'manual-1', started_at: later, request: { trigger: 'manual', since: new Date(Date.now() - DAY).toISOString() } }, ctx('find')),
    );
    expect((await manifestOf(manual)).map((e) => e.episode_id).sort()).toEqual([ids.submittedA, ids.submittedB].sort());
  });

  it('grade-batch leaves an episode alone that ended or is in use, and reports one that is gone', async () => {
    const entries = await gradeBatch(
      {
        run_id: 'run-3',
        episodes: [
          { tenant: 'tenant-a', episode_id: ids.activeA, abandoned: true },
          { tenant: 'tenant-b', episode_id: ids.abandonedB, abandoned: true },
          { tenant: 'tenant-b', episode_id: 'nope', abandoned: true },
        ],
      },
      ctx('grade-batch'),
    );
    expect(entries.map((e) => [e.episode_id, e.status])).toEqual([
      [ids.activeA, 'not_ended'],
      [ids.abandonedB, 'graded'],
      ['nope', 'not_found'],
    ]);
    expect((await now.api('GET', `/v1/episodes/${ids.activeA}`)).json.status).toBe('active');
  });

  function found1(result: FindEpisodesResult): Extract<FindEpisodesResult, { status: 'found' }> {
    if (result.status !== 'found') throw new Error(`find-episodes answered ${JSON.stringify(result)}`);
    expect(result.manifest.bucket).toBe(runtime.config.reportsBucket);
    return result;
  }

  async function manifestOf(found: Extract<FindEpisodesResult, { status: 'found' }>): Promise<FoundEpisode[]> {
    const text = Buffer.from((await runtime.reports.get(found.manifest.key))!).toString('utf8');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as FoundEpisode);
  }

  /** The ResultWriter's files (FLATTEN, JSONL): the answers one a line, the failed children's records unchanged; the map's output. */
  async function writeMapResults(runId: string, answers: unknown[], failed: unknown[]) {
    const base = `batch-runs/results/${runId}-map/`;
    const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    await runtime.reports.put(`${base}SUCCEEDED_0.json`, jsonl(answers));
    await runtime.reports.put(`${base}FAILED_0.json`, jsonl(failed));
    const manifest = {
      DestinationBucket: runtime.config.reportsBucket,
      MapRunArn: `arn:aws:states:eu-west-1:123456789012:mapRun:batch/${runId}:map`,
      ResultFiles: { FAILED: [{ Key: `${base}FAILED_0.json`, Size: 1 }], PENDING: [], SUCCEEDED: [{ Key: `${base}SUCCEEDED_0.json`, Size: 1 }] },
    };
    await runtime.reports.put(`${base}manifest.json`, JSON.stringify(manifest));
    return { MapRunArn: manifest.MapRunArn, ResultWriterDetails: { Bucket: runtime.config.reportsBucket, Key: `${base}manifest.json` } };
  }
});
