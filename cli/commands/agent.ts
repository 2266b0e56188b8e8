import { parseArgs } from 'node:util';
import { CoreError, taskIdsInWords, type EpisodeRecord, type Observation } from '../../layers/core/src';
import {
  AgentEnvironmentError,
  baselinePolicy,
  defaultPolicy,
  InProcessEnvironment,
  DEFAULT_LLM_RETRIES,
  llmPolicy,
  playEpisode,
  randomPolicy,
  RestEnvironment,
  type AgentEnvironment,
  type EpisodeResult,
  type EpisodeSession,
  type ModelUsage,
  type PendingInfo,
  type PlayedStep,
  type Policy,
} from '../../layers/agent/src';
import { UsageError, type CliCommand, type CliIO } from '../command';
import { epochProgressPrinter } from '../epoch-progress';
import { gradeSummaryLines } from '../grade-summary';
import { describeStep, type StepView } from '../step-line';
import { fill, formatHelp, TERMINAL_WIDTH } from '../help-text';
import { TRAINING_OPTIONS, TRAINING_OPTIONS_HELP, trainerFactoryFor, type TrainingOptionValues } from '../training-options';
import { parseSeed } from './step';

const POLICIES = ['baseline', 'random', 'llm', 'default'] as const;
/** A bound on --llm-retries: the SDK's backoff stops growing at 8 s, so ten retries wait about a minute. */
const MAX_LLM_RETRIES = 10;

const HELP = `Usage: ml-trainer agent --task <id> --policy <baseline|random|llm|default> [options]

Plays one whole episode with an agent policy, in this process (default) or against a
server (--url), printing progress to stderr and a summary at the end.

Policies:
  baseline   a heuristic ML engineer: per-task configuration, reads every observation,
             stops early where the grade rewards it (medium: train/val gap; hard: wasted
             epochs), rebuilds a diverged model
  random     random valid tool calls (seeded; a floor and a smoke test)
  llm        an OpenAI-compatible chat model with tool calling
             (OPENAI_API_KEY, OPENAI_BASE_URL, --model or OPENAI_MODEL)
  default    configure with no arguments, train the whole budget, submit (the reference)

Options:
  --task <id>              ${taskIdsInWords()}
  --policy <name>          baseline, random, llm or default
  --seed <N>               the episode seed (default: the task's seed)
  --url <server>           play against this server's REST API (/v1) instead of in-process
  --api-key <key>          sent as x-api-key (default: $ML_TRAINER_API_KEY)
  --tenant <id>            sent as x-tenant-id (default: the server's default tenant)
  --retries <N>            attempts per request to the server, the first included (default 5);
                           network errors, 5xx and 429 are retried with backoff, a step
                           keeps its request_id so the server runs it at most once.
                           A step the server runs asynchronously (202, the cloud API) is
                           polled until done, with a progress line on stderr
  --model <name>           llm: the chat model (default: $OPENAI_MODEL)
  --temperature <t>        llm: sampling temperature (default: the endpoint's)
  --llm-retries <N>        llm: how often a chat request is sent again after a 429, a 5xx or a
                           network error, 0 to ${MAX_LLM_RETRIES} (default ${DEFAULT_LLM_RETRIES}); waits what Retry-After asks,
                           else backs off exponentially
  --policy-seed <N>        random: the policy's own seed (default: the episode seed)
${TRAINING_OPTIONS_HELP}
                           (training options apply in-process only)
  --json                   stdout gets one JSON line per step {type:"step", step, tool, arguments,
                           reason, observation, error, reward, done, grade}, then
                           {type:"summary", ...}; progress stays on stderr
  -h, --help               show this help

Exit codes: 0 the episode was played; 2 bad options or a request the server refused as
invalid; 1 any other failure (server unreachable, model API errors).`;

export interface AgentValues extends TrainingOptionValues {
  task?: string;
  policy?: string;
  seed?: string;
  url?: string;
  'api-key'?: string;
  tenant?: string;
  model?: string;
  temperature?: string;
  'llm-retries'?: string;
  'policy-seed'?: string;
  retries?: string;
  json?: boolean;
  help?: boolean;
}

export const agentCommand: CliCommand = {
  name: 'agent',
  summary: 'play one episode with an agent policy (baseline, random, llm), in-process or against a server',
  help: HELP,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        task: { type: 'string' },
        policy: { type: 'string' },
        seed: { type: 'string' },
        url: { type: 'string' },
        'api-key': { type: 'string' },
        tenant: { type: 'string' },
        model: { type: 'string' },
        temperature: { type: 'string' },
        'llm-retries': { type: 'string' },
        'policy-seed': { type: 'string' },
        retries: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...TRAINING_OPTIONS,
      },
      strict: true,
    });
    if (values.help) {
      io.stdout.write(formatHelp(HELP));
      return 0;
    }
    if (values.task === undefined) throw new UsageError('--task <id> is required');
    if (values.policy === undefined) throw new UsageError(`--policy is required: ${POLICIES.join(', ')}`);
    const seed = parseSeed(values.seed);
    const policy = makePolicy(values, io);
    const json = values.json ?? false;
    const stderr = io.stderr;
    const progress = pendingProgressPrinter(stderr);
    const printEpoch = epochProgressPrinter(stderr);
    // A server reports a step's epochs as they finish (RestEnvironment polls them); the histories fill in any it did not.
    let epochsSeen = 0;
    let session: EpisodeSession | undefined;
    try {
      const environment = await makeEnvironment(values, io, progress);
      const result = await playEpisode({
        environment,
        policy,
        taskId: values.task,
        seed,
        onStart: (started) => {
          session = started;
          const text = `episode ${started.episodeId}: ${started.task.task_id}, seed ${started.seed}, policy ${policy.name}, ${environment.description}; ` +
            `budget ${started.task.max_epochs} epochs in at most ${started.maxSteps} steps`;
          stderr.write(`${fill(words(text), '', '  ', TERMINAL_WIDTH).join('\n')}\n`);
        },
        onEpoch: (epoch) => {
          progress.end();
          epochsSeen += 1;
          printEpoch(epoch);
        },
        onStep: (step) => {
          progress.end();
          stderr.write(`${describeStep(viewOfPlayed(step))}\n`);
          if (values.url !== undefined) writeRemoteEpochs(step, stderr, epochsSeen);
          epochsSeen = 0;
          if (json) io.stdout.write(`${JSON.stringify(stepJson(step))}\n`);
        },
        log: (message) => {
          progress.end();
          stderr.write(`  note: ${message}\n`);
        },
      });
      printSummary(result, environment, await recordOf(session), json, io);
      return 0;
    } catch (e) {
      progress.end();
      if (e instanceof UsageError || e instanceof CoreError) throw e;
      if (e instanceof AgentEnvironmentError) {
        io.stderr.write(`ml-trainer agent: ${e.message}\n`);
        return e.code === 'rejected' && (e.info.status === 400 || e.info.status === 404) ? 2 : 1;
      }
      io.stderr.write(`ml-trainer agent: ${(e as Error)?.message ?? String(e)}\n`);
      return 1;
    }
  },
};

export function makePolicy(values: AgentValues, io: CliIO): Policy {
  const name = values.policy!;
  if (values.model !== undefined && name !== 'llm') io.stderr.write('warning: --model applies to the llm policy only; ignored\n');
  if (values.temperature !== undefined && name !== 'llm') io.stderr.write('warning: --temperature applies to the llm policy only; ignored\n');
  if (values['llm-retries'] !== undefined && name !== 'llm') io.stderr.write('warning: --llm-retries applies to the llm policy only; ignored\n');
  switch (name) {
    case 'baseline':
      return baselinePolicy();
    case 'default':
      return defaultPolicy;
    case 'random':
      return randomPolicy({ seed: parseSeed(values['policy-seed']) });
    case 'llm': {
      const model = values.model ?? io.env.OPENAI_MODEL;
      if (!model) throw new UsageError('the llm policy needs --model <name> (or OPENAI_MODEL)');
      const apiKey = io.env.OPENAI_API_KEY || undefined;
      const baseURL = io.env.OPENAI_BASE_URL || undefined;
      if (apiKey === undefined && baseURL === undefined) {
        throw new UsageError('the llm policy needs OPENAI_API_KEY (or OPENAI_BASE_URL for an endpoint without keys)');
      }
      const maxRetries = parseLlmRetries(values['llm-retries']);
      return llmPolicy({ model, apiKey, baseURL, temperature: parseTemperature(values.temperature), maxRetries });
    }
    default:
      throw new UsageError(`--policy must be one of ${POLICIES.join(', ')}, got ${JSON.stringify(name)}`);
  }
}

function parseLlmRetries(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > MAX_LLM_RETRIES) throw new UsageError(`--llm-retries must be an integer from 0 to ${MAX_LLM_RETRIES}, got ${JSON.stringify(text)}`);
  return n;
}

function parseTemperature(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = Number(text);
  if (text.trim() === '' || !Number.isFinite(t) || t < 0 || t > 2) throw new UsageError(`--temperature must be a number from 0 to 2, got ${JSON.stringify(text)}`);
  return t;
}

/**
 * The progress of a step the server runs asynchronously: "step 4 run_epochs: training
 * remotely… 35 s". On a terminal one line is rewritten in place (end() closes it before other
 * output); otherwise a line is printed when the state changes and every 30 s.
 */
export function pendingProgressPrinter(stream: NodeJS.WritableStream): { update: (info: PendingInfo) => void; end: () => void } {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  let open = false;
  let lastKey = '';
  let lastPrintedMs = 0;
  return {
    update(info) {
      const what = info.status === 'running' ? (info.tool === 'run_epochs' ? 'training remotely' : 'running remotely') : 'queued remotely';
      const line = `  step ${info.step} ${info.tool}: ${what}… ${Math.round(info.elapsedMs / 1000)} s`;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        open = true;
        return;
      }
      const key = `${info.step_id} ${info.status}`;
      if (key === lastKey && info.elapsedMs - lastPrintedMs < 30_000) return;
      lastKey = key;
      lastPrintedMs = info.elapsedMs;
      stream.write(`${line}\n`);
    },
    end() {
      if (!open) return;
      stream.write('\r\x1b[K');
      open = false;
    },
  };
}

async function makeEnvironment(values: AgentValues, io: CliIO, progress: ReturnType<typeof pendingProgressPrinter>): Promise<AgentEnvironment> {
  if (values.url === undefined) {
    if (values.tenant !== undefined || values['api-key'] !== undefined) {
      io.stderr.write('warning: --api-key and --tenant apply with --url only; ignored\n');
    }
    return new InProcessEnvironment(await trainerFactoryFor(values, io, values.task));
  }
  if (values.trainer !== undefined || values['data-dir'] !== undefined || values['allow-unverified-data']) {
    io.stderr.write('warning: --trainer, --data-dir and --allow-unverified-data apply in-process only; the server trains\n');
  }
  try {
    return new RestEnvironment({
      url: values.url,
      apiKey: values['api-key'] ?? (io.env.ML_TRAINER_API_KEY || undefined),
      tenantId: values.tenant,
      retry: values.retries === undefined ? undefined : { attempts: parseAttempts(values.retries) },
      onRetry: ({ attempt, delayMs, reason }) => {
        progress.end();
        io.stderr.write(`  retrying in ${delayMs} ms (attempt ${attempt} failed: ${reason})\n`);
      },
      onPending: (info) => progress.update(info),
    });
  } catch (e) {
    if (e instanceof AgentEnvironmentError) throw new UsageError(`--url: ${e.message}`);
    throw e;
  }
}

function parseAttempts(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 100) throw new UsageError(`--retries must be an integer from 1 to 100, got ${JSON.stringify(text)}`);
  return n;
}

function viewOfPlayed(step: PlayedStep): StepView {
  const { outcome } = step;
  return {
    step: outcome.step,
    tool: outcome.tool,
    arguments: step.call.arguments ?? {},
    reward: outcome.reward,
    data: outcome.data,
    error: outcome.error,
    ...(step.reason ? { reason: step.reason } : {}),
    ...(outcome.replayed ? { replayed: true } : {}),
  };
}

/**
 * The epochs a remote step trained that were not seen while it ran (an older server reports
 * none; the last ones may finish between two polls), from the histories it returns.
 */
function writeRemoteEpochs(step: PlayedStep, stream: NodeJS.WritableStream, seenLive: number): void {
  const trained = step.outcome.data.epochs_just_trained;
  if (typeof trained !== 'number' || trained <= seenLive) return;
  const unseen = trained - seenLive;
  const o: Observation = step.observation;
  const shown = Math.min(unseen, o.val_loss_history_last_10.length, o.loss_history_last_10.length);
  const trainLosses = o.loss_history_last_10.slice(-shown);
  const valLosses = o.val_loss_history_last_10.slice(-shown);
  if (shown < unseen) stream.write(`  (${unseen} epochs trained${seenLive > 0 ? ' after those shown' : ''}; the last ${shown} shown)\n`);
  for (let i = 0; i < shown; i++) {
    const epoch = o.current_epoch - shown + 1 + i;
    stream.write(`  model epoch ${epoch}  loss ${trainLosses[i].toFixed(3)}/${valLosses[i].toFixed(3)}\n`);
  }
}

function stepJson(step: PlayedStep): Record<string, unknown> {
  const { outcome } = step;
  return {
    type: 'step',
    step: outcome.step,
    tool: outcome.tool,
    arguments: step.call.arguments ?? {},
    ...(step.reason ? { reason: step.reason } : {}),
    observation: outcome.data,
    error: outcome.error,
    reward: outcome.reward,
    done: outcome.done,
    grade: outcome.grade,
    ...(outcome.replayed ? { replayed: true } : {}),
  };
}

/** The finished episode's record, for the summary's grade explanation; a server that will not give it costs only that. */
async function recordOf(session: EpisodeSession | undefined): Promise<EpisodeRecord | null> {
  try {
    return (await session?.readRecord()) ?? null;
  } catch {
    return null;
  }
}

function printSummary(result: EpisodeResult, environment: AgentEnvironment, record: EpisodeRecord | null, json: boolean, io: CliIO): void {
  const { history: _history, ...rest } = result;
  if (json) {
    io.stdout.write(`${JSON.stringify({ type: 'summary', ...rest, environment: environment.description })}\n`);
    return;
  }
  const seen = result.history.map((s) => ({ step: s.outcome.step, best_val_accuracy: s.observation.best_val_accuracy }));
  const grade =
    record !== null && record.grade !== null
      ? gradeSummaryLines(record, seen)
      : [`Grade: ${result.grade ? `${result.grade.score}` : 'not reported (the episode ended elsewhere)'}`];
  const maxEpochs = result.history.at(-1)?.observation.max_epochs;
  const lines = [
    ...grade,
    `  ${result.task_id}, seed ${result.seed}, policy ${result.policy}, episode ${result.episode_id}, ${result.status.replace('_', '-')}`,
    `  total reward ${result.total_reward}, ${result.steps} steps, ${result.epochs_used}${maxEpochs ? `/${maxEpochs}` : ''} epochs used`,
    ...(result.model_usage ? [describeModelUsage(result.model_usage)] : []),
  ];
  io.stdout.write(`${lines.flatMap((l) => fill(words(l), l.startsWith('  ') ? '  ' : '', '  ', TERMINAL_WIDTH)).join('\n')}\n`);
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

function describeModelUsage(u: ModelUsage): string {
  const retries = `${u.retries} ${u.retries === 1 ? 'retry' : 'retries'}`;
  return `  model ${u.model}: ${u.prompt_tokens} prompt + ${u.completion_tokens} completion tokens, ${u.requests} requests (${retries})`;
}
