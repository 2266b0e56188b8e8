import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { agentLabelKey, DatasetUnavailableError, getTask, type AgentLabel } from '../../layers/core/src';
import { DatasetError } from '../../layers/datasets/src';
import {
  AgentEnvironmentError,
  compareToReference,
  LlmApiError,
  DEFAULT_BOOTSTRAP,
  InProcessEnvironment,
  RestEnvironment,
  runScheduled,
  summarizeTask,
  withinCostLimit,
  type AgentEnvironment,
  type EvalEpisode,
  type Policy,
} from '../../layers/agent/src';
import { renderEvalReportHtml } from '../../layers/reports/src';
import { UsageError, type CliCommand, type CliIO } from '../command';
import { ReferenceScoreCache } from '../eval-cache';
import { episodeReportWriter, writeReport } from '../eval-episode-reports';
import { appendToJournal, readJournal, startJournal } from '../eval-journal';
import { agentLabel, MAX_CONCURRENCY, parseSetup, type EvalSetup, type EvalValues } from '../eval-options';
import { evalReportData, formatTables, hrefKey, summaryJson, type EvalResults } from '../eval-output';
import { describeFinished, evalProgressPrinter } from '../eval-progress';
import { cacheEntries, playReferences, REFERENCE_POLICIES, type ReferencePolicy, type ReferenceScores } from '../eval-references';
import { evalEpisodeRunner, type PlayedEvalEpisode } from '../eval-runner';
import { serverCost, type ServerCost } from '../eval-server-cost';
import { allowsUnverifiedData, TRAINING_OPTIONS, TRAINING_OPTIONS_HELP, trainerFactoryFor } from '../training-options';
import { makePolicy } from './agent';
import { version as PACKAGE_VERSION } from '../../package.json';


/** Exit code when --max-cost stopped the eval before every episode ran. */
export const EXIT_MAX_COST = 3;

const HELP = `Usage: ml-trainer eval --policy <baseline|random|llm|default> --tasks <all|id,id> --seeds <N|s1,s2,...> [options]

Evaluates an agent over many episodes (tasks × seeds), K at a time, in this process or
against a server or the cloud API (--url), and prints per task the mean score with a 95%
confidence interval, the median, min/max, mean epochs used, steps, training seconds and
costs, with comparison rows for the reference policies on the same seeds.

What is played:
  --policy <name>          baseline, random, llm or default (as \`ml-trainer agent\`)
  --model <name>           llm: the chat model (default: $OPENAI_MODEL)
  --temperature <t>        llm: sampling temperature
  --llm-retries <N>        llm: retries of a chat request after a 429, a 5xx or a network error
                           (as \`ml-trainer agent\`)
  --policy-seed <N>        random: the policy's own seed (default: each episode's seed)
  --agent-version <text>   a free-form version stored in each episode's agent label
                           ({policy, model, version}: how the leaderboard groups episodes)
  --tasks <list>           all, or a comma-separated list of task ids
  --seeds <N|list>         N: the task's own seed and the N-1 after it (seed #1 is the episode
                           \`ml-trainer agent\` plays); or a list such as 3,17,42 for every task
  --concurrency <K>        episodes at once (default 1, at most ${MAX_CONCURRENCY})

Where:
  --url <server>           a server's REST API (\`npm start\`, or the cloud ApiUrl); steps the
                           cloud runs asynchronously are polled. Training seconds come from
                           each episode's usage; on the cloud the cost per episode comes from
                           GET /v1/usage over the eval's time window (it counts every episode
                           the tenant created in that window). Without --url: in-process.
  --api-key <key>          sent as x-api-key (default: $ML_TRAINER_API_KEY)
  --tenant <id>            sent as x-tenant-id
${TRAINING_OPTIONS_HELP}
                           (training options apply in-process only)

Comparisons:
  --compare <list|none>    reference policies played on the same seeds (default: default,baseline).
                           Their scores are cached by (task, seed, policy, trainer version), the
                           trainer version being the ml-trainer version (${PACKAGE_VERSION}), the
                           trainer (tfjs or formula, and whether --allow-unverified-data) in-process,
                           or the server's URL with --url: a cached score is reused only where all
                           four match, so the references are played once. An eval of default or baseline fills the cache itself.
  --cache-dir <dir>        where the cache and the journals live (default: $XDG_CACHE_HOME/ml-trainer/eval,
                           else ~/.cache/ml-trainer/eval)

Costs:
  --price-input <usd>      the model's price per million prompt tokens (llm)
  --price-output <usd>     the model's price per million completion tokens (llm)
  --max-cost <usd>         do not start another episode once the model cost spent plus the
                           running episodes and the new one at the mean cost per episode so far
                           would exceed it (needs both prices); exit code ${EXIT_MAX_COST}

Output:
  --json                   stdout: one line per finished episode {type:"episode", ...}, then one
                           {type:"summary", tasks:[{task_id, summary, comparisons}], totals}
  --out <file.html>        also write the HTML eval report (score distributions, every episode's
                           curves, links to each episode's report: in-process written beside it
                           in <file>-episodes/, with --url on a local server its dashboard page)
  --resume                 continue an interrupted eval: the journal (one line per finished
                           episode, <file.html>.journal.jsonl with --out, else in the cache dir
                           keyed by the options) is read and only the missing episodes are
                           played; refused when the journal was written with other options.
                           Without --resume an eval starts afresh and replaces its journal.
  -h, --help               show this help

Progress (done/running/queued and each running episode's epoch) goes to stderr.

Exit codes: 0 every episode was played; 1 some episodes failed (their errors are listed) or
the environment failed (server unreachable, datasets missing); 2 bad options;
${EXIT_MAX_COST} --max-cost stopped the eval (the summary covers the episodes played).`;

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'evaluate an agent over tasks × seeds, K episodes at a time, with confidence intervals and reference rows',
  help: HELP,
  async run(argv, io) {
    const parsed = parseEvalArgv(argv, io);
    if (parsed === 'help') {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const { setup, policy, agent } = parsed;
    if (setup.maxCostUsd !== undefined && policy.model === undefined) {
      io.stderr.write(`warning: --max-cost counts the model's cost; the ${policy.name} policy calls no model, so it never stops the eval\n`);
    }
    try {
      return await runEval(setup, policy, agent, io);
    } catch (error) {
      if (error instanceof AgentEnvironmentError || error instanceof LlmApiError) {
        const what = error instanceof LlmApiError ? 'the chat API accepts the request' : 'the server answers';
        io.stderr.write(`ml-trainer eval: ${error.message}\n(the episodes finished so far are in ${setup.journalPath}; run again with --resume once ${what})\n`);
        return 1;
      }
      if (error instanceof DatasetUnavailableError || error instanceof DatasetError) {
        io.stderr.write(`note: the episodes finished so far are in ${setup.journalPath}; once the datasets are there, run again with --resume\n`);
      }
      throw error;
    }
  },
};

/** The options as the eval will run them (a usage error names the bad one), or 'help'; nothing is played. */
export function parseEvalArgv(argv: string[], io: CliIO): 'help' | { setup: EvalSetup; policy: Policy; agent: AgentLabel } {
  const { values } = parseArgs({
    args: argv,
    options: {
    policy: { type: 'string' },
    model: { type: 'string' },
    temperature: { type: 'string' },
    'llm-retries': { type: 'string' },
    'policy-seed': { type: 'string' },
    'agent-version': { type: 'string' },
    tasks: { type: 'string' },
    seeds: { type: 'string' },
    concurrency: { type: 'string' },
    url: { type: 'string' },
    'api-key': { type: 'string' },
    tenant: { type: 'string' },
    compare: { type: 'string' },
    'cache-dir': { type: 'string' },
    'price-input': { type: 'string' },
    'price-output': { type: 'string' },
    'max-cost': { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    ...TRAINING_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return 'help';
  const setup = parseSetup(values, argv, io);
  const policy = makePolicy(values, io);
  return { setup, policy, agent: agentLabel(policy, values['agent-version']) };
}

async function makeEnvironment(setup: EvalSetup, io: CliIO, note: (text: string) => void): Promise<AgentEnvironment> {
  const { values } = setup;
  if (values.url === undefined) {
    if (values.tenant !== undefined || values['api-key'] !== undefined) io.stderr.write('warning: --api-key and --tenant apply with --url only; ignored\n');
    const onlyTask = setup.tasks.length === 1 ? setup.tasks[0] : undefined;
    return new InProcessEnvironment(await trainerFactoryFor(values, io, onlyTask, { concurrency: setup.concurrency }));
  }
  if (values.trainer !== undefined || values['data-dir'] !== undefined || values['allow-unverified-data']) {
    io.stderr.write('warning: --trainer, --data-dir and --allow-unverified-data apply in-process only; the server trains\n');
  }
  try {
    return new RestEnvironment({
      url: values.url,
      apiKey: values['api-key'] ?? (io.env.ML_TRAINER_API_KEY || undefined),
      tenantId: values.tenant,
      onRetry: ({ attempt, delayMs, reason }) => note(`  retrying in ${delayMs} ms (attempt ${attempt} failed: ${reason})`),
    });
  } catch (e) {
    if (e instanceof AgentEnvironmentError) throw new UsageError(`--url: ${e.message}`);
    throw e;
  }
}

/**
 * What makes a cached reference score valid: see the help's Comparisons. Verified datasets
 * are the same bytes on every machine; unverified ones (the lossy CIFAR stand-in) are not,
 * so their scores are kept apart.
 */
export function trainerVersion(values: EvalValues, environment: AgentEnvironment, env: NodeJS.ProcessEnv): string {
  if (values.url !== undefined) return `ml-trainer ${PACKAGE_VERSION}; server ${environment.description}`;
  return `ml-trainer ${PACKAGE_VERSION}; trainer ${values.trainer ?? 'tfjs'}${allowsUnverifiedData(values, env) ? ' on unverified data' : ''}; in-process`;
}

async function runEval(setup: EvalSetup, policy: Policy, agent: AgentLabel, io: CliIO): Promise<number> {
  const { values } = setup;
  const json = values.json ?? false;
  const progress = evalProgressPrinter(io.stderr);
  const environment = await makeEnvironment(setup, io, progress.note);
  const cache = await ReferenceScoreCache.open(setup.cacheDir, (m) => io.stderr.write(`warning: ${m}\n`));
  const version = trainerVersion(values, environment, io.env);
  const reports = episodeReportWriter(values, environment);

  const resumed = await resumedEpisodes(setup, io);
  const done = new Set(resumed.map((e) => hrefKey(e.task_id, e.seed)));
  const episodes: EvalEpisode[] = [...resumed];
  const emit = (episode: EvalEpisode, extra: Record<string, unknown> = {}) => {
    const href = reports.hrefs.get(hrefKey(episode.task_id, episode.seed));
    if (json) io.stdout.write(`${JSON.stringify({ type: 'episode', ...episode, report_href: href ?? null, ...extra })}\n`);
  };
  for (const episode of resumed) {
    await reports.findExisting(episode);
    emit(episode, { resumed: true });
  }

  const remaining = setup.plan.filter((p) => !done.has(hrefKey(p.task_id, p.seed)));
  progress.note(
    `eval of ${agentLabelKey(agent)}: ${setup.plan.length} episodes (${setup.tasks.join(', ')}), ${setup.concurrency} at a time, ${environment.description}` +
      `${resumed.length > 0 ? `; ${resumed.length} resumed from ${setup.journalPath}` : ''}`,
  );
  const startedAt = new Date();
  const maxCost = setup.maxCostUsd;
  let journalWrites = Promise.resolve();
  const outcome = await runScheduled<PlayedEvalEpisode>({
    episodes: remaining,
    concurrency: setup.concurrency,
    run: evalEpisodeRunner({ environment, policy, agent, prices: setup.prices }),
    mayStart: maxCost === undefined ? undefined : (state) => withinCostLimit({ ...spent(episodes), running: state.running.length, maxUsd: maxCost }),
    onResult: (_planned, played) => {
      episodes.push(played.episode);
      journalWrites = journalWrites.then(async () => {
        await reports.write(played);
        await appendToJournal(setup.journalPath, played.episode);
        progress.note(describeFinished(played.episode));
        emit(played.episode);
      });
    },
    onEvent: (event) => {
      if (event.type === 'stopped') progress.note(`--max-cost ${maxCost} USD: spent ${spent(episodes).spentUsd.toFixed(4)} USD; no more episodes are started (${event.state.skipped} skipped)`);
      progress.event(event, agentLabelKey(agent), resumed.length);
    },
  });
  await journalWrites;
  const finishedAt = new Date();
  progress.end();

  const cost = environment instanceof RestEnvironment && remaining.length > 0 ? await serverCost(environment, startedAt, finishedAt) : null;
  if (REFERENCE_POLICIES.includes(policy.name as ReferencePolicy) && policy.model === undefined) {
    await cache.put(cacheEntries(episodes, policy.name, version));
  }
  const referenceScores = await playReferences(setup, episodes, environment, cache, version, progress);
  progress.end();

  const results = buildResults(setup, agent, environment, episodes, referenceScores, reports.hrefs, {
    wallSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    playedNow: outcome.results.length,
    skipped: outcome.skipped.length,
    cost,
  });
  if (json) io.stdout.write(`${JSON.stringify(summaryJson(results))}\n`);
  else io.stdout.write(formatTables(results, agentLabelKey(agent)));
  if (values.out !== undefined) {
    await writeReport(values.out, renderEvalReportHtml(evalReportData(results, new Date())));
    io.stderr.write(`wrote the eval report to ${values.out}\n`);
  }
  const failed = episodes.filter((e) => e.error !== undefined);
  for (const e of failed) io.stderr.write(`failed: ${e.task_id} seed ${e.seed}: ${e.error}\n`);
  if (outcome.skipped.length > 0) return EXIT_MAX_COST;
  return failed.length > 0 ? 1 : 0;
}

/** The command line as the report shows it: an API key given as an option is not written into a file meant to be shared. */
export function withoutSecrets(argv: readonly string[]): string[] {
  return argv.map((arg, i) => (argv[i - 1] === '--api-key' ? '***' : arg.startsWith('--api-key=') ? '--api-key=***' : arg));
}

function spent(episodes: readonly EvalEpisode[]): { spentUsd: number; finished: number } {
  const costed = episodes.filter((e) => e.model_cost_usd !== null);
  return { spentUsd: costed.reduce((s, e) => s + (e.model_cost_usd ?? 0), 0), finished: costed.length };
}

/** The finished episodes of an earlier run with the same options (--resume); a fresh journal otherwise. */
async function resumedEpisodes(setup: EvalSetup, io: CliIO): Promise<EvalEpisode[]> {
  try {
    return await resumeOrStartJournal(setup, io);
  } catch (error) {
    if (!(error as NodeJS.ErrnoException).code) throw error;
    const where = setup.values.out === undefined ? 'give --cache-dir a writable folder' : 'give --out a path in a writable folder';
    throw new UsageError(`cannot write the eval's journal ${setup.journalPath} (${(error as Error).message}); ${where}`);
  }
}

async function resumeOrStartJournal(setup: EvalSetup, io: CliIO): Promise<EvalEpisode[]> {
  await mkdir(dirname(setup.journalPath), { recursive: true });
  if (!setup.values.resume) {
    await startJournal(setup.journalPath, setup.journalOptions);
    return [];
  }
  const journal = await readJournal(setup.journalPath, setup.journalOptions);
  switch (journal.kind) {
    case 'other-options':
      throw new UsageError(
        `--resume: ${setup.journalPath} is the journal of an eval with other options:\n  ${journal.differences.join('\n  ')}\n` +
          'Give the same options to resume it, or leave out --resume to start afresh (the journal is then replaced).',
      );
    case 'unreadable':
      throw new UsageError(`--resume: cannot read the journal ${setup.journalPath} (${journal.reason}); leave out --resume to start afresh`);
    case 'missing':
      io.stderr.write(`note: --resume: no journal of an eval with these options (${setup.journalPath}); starting from the first episode\n`);
      await startJournal(setup.journalPath, setup.journalOptions);
      return [];
    case 'ok': {
      // A failed episode is played again; only finished ones are kept (the last line of a seed wins).
      const finished = new Map<string, EvalEpisode>();
      for (const e of journal.episodes) if (e.error === undefined && setup.plan.some((p) => p.task_id === e.task_id && p.seed === e.seed)) finished.set(hrefKey(e.task_id, e.seed), e);
      return [...finished.values()];
    }
  }
}

function buildResults(
  setup: EvalSetup,
  agent: AgentLabel,
  environment: AgentEnvironment,
  episodes: readonly EvalEpisode[],
  references: ReferenceScores,
  reportHrefs: Map<string, string>,
  run: { wallSeconds: number; playedNow: number; skipped: number; cost: ServerCost | null },
): EvalResults {
  const confidence = { level: DEFAULT_BOOTSTRAP.level, resamples: DEFAULT_BOOTSTRAP.resamples, seed: DEFAULT_BOOTSTRAP.seed };
  const order = new Map(setup.plan.map((p, i) => [hrefKey(p.task_id, p.seed), i]));
  const sorted = [...episodes].sort((a, b) => (order.get(hrefKey(a.task_id, a.seed)) ?? 0) - (order.get(hrefKey(b.task_id, b.seed)) ?? 0));
  const tasks = setup.tasks
    .map((taskId) => {
      const own = sorted.filter((e) => e.task_id === taskId);
      const comparisons = [...references].flatMap(([name, byTask]) => compareToReference(name, own, byTask.get(taskId) ?? new Map()) ?? []);
      return { task_id: taskId, max_epochs: getTask(taskId).max_epochs, summary: summarizeTask(taskId, own), comparisons, episodes: own };
    })
    .filter((t) => t.episodes.length > 0);
  const modelCosts = episodes.map((e) => e.model_cost_usd).filter((c): c is number => c !== null);
  const usages = episodes.flatMap((e) => (e.model_usage ? [e.model_usage] : []));
  const { cost } = run;
  return {
    agent,
    environment: environment.description,
    command: ['ml-trainer', 'eval', ...withoutSecrets(setup.argv)].join(' '),
    confidence,
    tasks,
    reportHrefs,
    totals: {
      episodes: episodes.length,
      wall_seconds: Math.round(run.wallSeconds * 10) / 10,
      episodes_per_hour: run.wallSeconds > 0 ? Math.round((run.playedNow / run.wallSeconds) * 3600 * 10) / 10 : 0,
      cost_usd: cost?.total_usd ?? null,
      cost_note: cost ? `$${cost.per_episode_usd.toFixed(5)} per episode over the ${cost.episodes} episodes tenant ${cost.tenant} created in this eval's window` : null,
      model_cost_usd: modelCosts.length > 0 ? modelCosts.reduce((s, c) => s + c, 0) : null,
      prompt_tokens: usages.length > 0 ? usages.reduce((s, u) => s + u.prompt_tokens, 0) : null,
      completion_tokens: usages.length > 0 ? usages.reduce((s, u) => s + u.completion_tokens, 0) : null,
      played_now: run.playedNow,
      skipped: run.skipped,
      failed: episodes.filter((e) => e.error !== undefined).length,
    },
  };
}

