import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AGENT_VERSION_MAX_LENGTH, agentLabelSchema, type AgentLabel } from '../layers/core/src';
import { parseSeedSpec, parseTaskList, planEpisodes, type ModelPrices, type PlannedEpisode, type Policy } from '../layers/agent/src';
import { UsageError, type CliIO } from './command';
import { defaultEvalCacheDir } from './eval-cache';
import type { JournalOptions } from './eval-journal';
import { REFERENCE_POLICIES, type ReferencePolicy } from './eval-references';
import type { TrainingOptionValues } from './training-options';

/** Most episodes an eval plays at once. */
export const MAX_CONCURRENCY = 64;

export interface EvalValues extends TrainingOptionValues {
  policy?: string;
  model?: string;
  temperature?: string;
  'llm-retries'?: string;
  'policy-seed'?: string;
  'agent-version'?: string;
  tasks?: string;
  seeds?: string;
  concurrency?: string;
  url?: string;
  'api-key'?: string;
  tenant?: string;
  compare?: string;
  'cache-dir'?: string;
  'price-input'?: string;
  'price-output'?: string;
  'max-cost'?: string;
  json?: boolean;
  out?: string;
  resume?: boolean;
  help?: boolean;
}

/** What the options decide before anything is played. */
export interface EvalSetup {
  values: EvalValues;
  /** The command line, for the report. */
  argv: string[];
  tasks: string[];
  plan: PlannedEpisode[];
  concurrency: number;
  references: ReferencePolicy[];
  prices?: ModelPrices;
  maxCostUsd?: number;
  cacheDir: string;
  journalPath: string;
  journalOptions: JournalOptions;
}

export function parseSetup(values: EvalValues, argv: string[], io: CliIO): EvalSetup {
  if (values.policy === undefined) throw new UsageError('--policy is required: baseline, random, llm or default');
  if (values.tasks === undefined) throw new UsageError('--tasks is required: all, or a comma-separated list of task ids');
  if (values.seeds === undefined) throw new UsageError('--seeds is required: a count (e.g. 5) or a list of seeds (e.g. 3,17,42)');
  const tasks = orUsage(parseTaskList(values.tasks));
  const seeds = orUsage(parseSeedSpec(values.seeds));
  const plan = planEpisodes(tasks, seeds);
  const prices = parsePrices(values);
  const maxCostUsd = values['max-cost'] === undefined ? undefined : parseUsd('--max-cost', values['max-cost']);
  if (maxCostUsd !== undefined && prices === undefined) throw new UsageError('--max-cost needs the model prices: --price-input <usd> and --price-output <usd> per million tokens');
  const cacheDir = values['cache-dir'] ?? defaultEvalCacheDir(io.env);
  const journalOptions: JournalOptions = {
    policy: values.policy,
    model: values.model ?? null,
    temperature: values.temperature ?? null,
    'policy-seed': values['policy-seed'] ?? null,
    'agent-version': values['agent-version'] ?? null,
    tasks,
    seeds: plan.map((p) => `${p.task_id}/${p.seed}`),
    url: values.url ?? null,
    tenant: values.tenant ?? null,
    trainer: values.url === undefined ? (values.trainer ?? 'tfjs') : null,
  };
  const optionsHash = createHash('sha256').update(JSON.stringify(journalOptions)).digest('hex').slice(0, 16);
  return {
    values,
    argv,
    tasks,
    plan,
    concurrency: parseConcurrency(values.concurrency),
    references: parseCompare(values.compare, values.policy),
    prices,
    maxCostUsd,
    cacheDir,
    journalPath: values.out !== undefined ? `${values.out}.journal.jsonl` : join(cacheDir, 'journals', `${optionsHash}.jsonl`),
    journalOptions,
  };
}

function orUsage<T>(parsed: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!parsed.ok) throw new UsageError(parsed.message);
  return parsed.value;
}

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 1;
  const k = Number(text);
  if (!/^\d+$/.test(text) || k < 1 || k > MAX_CONCURRENCY) throw new UsageError(`--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(text)}`);
  return k;
}

/** The references to compare with; the evaluated policy is not compared with itself. */
function parseCompare(text: string | undefined, policy: string): ReferencePolicy[] {
  if (text === 'none') return [];
  const names = (text ?? REFERENCE_POLICIES.join(',')).split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(REFERENCE_POLICIES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new UsageError(`--compare must be none or a comma-separated list of ${REFERENCE_POLICIES.join(', ')}; unknown: ${unknown.join(', ')}`);
  return [...new Set(names as ReferencePolicy[])].filter((n) => n !== policy);
}

function parseUsd(option: string, text: string): number {
  const usd = Number(text);
  if (text.trim() === '' || !Number.isFinite(usd) || usd < 0 || usd > 1e6) throw new UsageError(`${option} must be a number of US dollars from 0 to 1000000, got ${JSON.stringify(text)}`);
  return usd;
}

function parsePrices(values: EvalValues): ModelPrices | undefined {
  const input = values['price-input'];
  const output = values['price-output'];
  if (input === undefined && output === undefined) return undefined;
  if (input === undefined || output === undefined) throw new UsageError('give both --price-input and --price-output (USD per million tokens), or neither');
  return { input_usd_per_mtok: parseUsd('--price-input', input), output_usd_per_mtok: parseUsd('--price-output', output) };
}

export function agentLabel(policy: Policy, version: string | undefined): AgentLabel {
  const label = agentLabelSchema.safeParse({ policy: policy.name, ...(policy.model === undefined ? {} : { model: policy.model }), ...(version === undefined ? {} : { version }) });
  if (!label.success) throw new UsageError(`--agent-version must be 1 to ${AGENT_VERSION_MAX_LENGTH} characters without control characters (${label.error.issues[0]?.message})`);
  return label.data;
}

