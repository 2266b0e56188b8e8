import { parseArgs } from 'node:util';
import { isTaskId, MAX_EPOCHS_PER_CALL, taskIds } from '../../layers/core/src';
import {
  COST_PRICE_NAMES,
  type CostOptions,
  type CostPrices,
  CloudConfigError,
  DEFAULT_COST_OPTIONS,
  evaluateCosts,
  isCostPriceName,
  LAMBDA_ARCHITECTURES,
  LAMBDA_MEMORY_RANGE_MB,
  MB_PER_VCPU,
  pricesFromEnv,
  renderAssumptions,
  renderCostTable,
  THREAD_COUNTS,
  type ThreadCount,
  withPrice,
} from '../../layers/cloud/src';
import { UsageError, type CliCommand } from '../command';

const d = DEFAULT_COST_OPTIONS;

const HELP = `Usage: ml-trainer cost [--memory 1769,2048,3008,...] [--threads 1,2] [--task <id> ...] [--arch x86_64|arm64]
                       [--price <name>=<usd> ...] [--max-step-seconds N] [--pick-max-memory MB] [--json]

Models what one full-budget episode of each task costs on AWS, per training Lambda memory
size, and picks the training function's memory and TensorFlow thread count: the cheapest
whose ${MAX_EPOCHS_PER_CALL}-epoch steps (cold start included) stay within --max-step-seconds, from ${MB_PER_VCPU} MB
(one vCPU) up to --pick-max-memory. Nothing is measured or called: the epoch times, checkpoint
and cold-start figures were measured with \`npm run bench\` at 1 and 2 threads and are committed
with their provenance in layers/cloud/src/cost-measurements.ts; the model is stated in
layers/cloud/src/cost-model.ts. The README's cost table is this command's output.

Options:
  --memory <list>           training memories in MB, ${LAMBDA_MEMORY_RANGE_MB.min}-${LAMBDA_MEMORY_RANGE_MB.max} (default ${d.memoriesMb.join(',')})
  --threads <list>          TF_NUM_INTRAOP_THREADS values the function may pin, from ${THREAD_COUNTS.join(',')} (default both)
  --task <id>               ${taskIds().join(', ')}; repeat or comma-separate (default: all)
  --arch <x86_64|arm64>     the training function's architecture (default x86_64; arm64 epoch times are assumed equal)
  --price <name>=<usd>      override a us-east-1 price (repeatable); names: ${COST_PRICE_NAMES.join(', ')}.
                            PRICE_LAMBDA_GB_SECOND_USD and PRICE_LAMBDA_REQUEST_USD (the deployment's) are read too.
  --max-step-seconds <N>    the latency bound (default ${d.maxStepSeconds})
  --pick-max-memory <MB>    the highest memory the pick may choose (default ${d.pickMaxMemoryMb}: new accounts' limit)
  --json                    print the whole model (every memory and thread count, usage, cost items) as JSON
  -h, --help                show this help`;

function listOf(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function wholeNumber(text: string, name: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

function memories(values: string[] | undefined): readonly number[] {
  if (values === undefined) return d.memoriesMb;
  const list = listOf(values).map((v) => wholeNumber(v, '--memory', LAMBDA_MEMORY_RANGE_MB.min, LAMBDA_MEMORY_RANGE_MB.max));
  if (list.length === 0) throw new UsageError('--memory needs a comma-separated list of MB, e.g. 1769,3008');
  return [...new Set(list)];
}

function threads(values: string[] | undefined): readonly ThreadCount[] {
  if (values === undefined) return d.threads;
  const list = listOf(values).map((v) => {
    if (v !== '1' && v !== '2') throw new UsageError(`--threads takes ${THREAD_COUNTS.join(' or ')} (the thread counts measured), got ${JSON.stringify(v)}`);
    return Number(v) as ThreadCount;
  });
  if (list.length === 0) throw new UsageError('--threads needs 1, 2 or 1,2');
  return [...new Set(list)];
}

function tasks(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = listOf(values);
  const unknown = list.find((t) => !isTaskId(t));
  if (unknown !== undefined) throw new UsageError(`unknown task ${JSON.stringify(unknown)}; tasks: ${taskIds().join(', ')}`);
  if (list.length === 0) throw new UsageError('--task needs a task id');
  return list;
}

function prices(values: string[] | undefined, env: NodeJS.ProcessEnv): CostPrices {
  let fromEnv;
  try {
    fromEnv = pricesFromEnv(env);
  } catch (e) {
    if (e instanceof CloudConfigError) throw new UsageError(`${e.message} Unset it or give a price in USD.`);
    throw e;
  }
  let result: CostPrices = { ...d.prices, lambdaGbSecondX86Usd: fromEnv.lambdaGbSecondUsd, lambdaRequestUsd: fromEnv.lambdaRequestUsd };
  for (const pair of values ?? []) {
    const [name = '', value] = pair.split('=');
    if (!isCostPriceName(name.trim())) throw new UsageError(`--price ${JSON.stringify(pair)}: name one of ${COST_PRICE_NAMES.join(', ')}, as name=usd`);
    const usd = value === undefined || value.trim() === '' ? NaN : Number(value);
    const next = withPrice(result, name.trim() as keyof CostPrices, usd);
    if ('error' in next) throw new UsageError(`--price: ${next.error}`);
    result = next;
  }
  return result;
}

function architecture(value: string | undefined): CostOptions['architecture'] {
  if (value === undefined) return d.architecture;
  const arch = LAMBDA_ARCHITECTURES.find((a) => a === value);
  if (arch === undefined) throw new UsageError(`--arch must be ${LAMBDA_ARCHITECTURES.join(' or ')}, got ${JSON.stringify(value)}`);
  return arch;
}

/** Parses and checks the arguments; bad input is a UsageError (exit code 2). */
export function parseCostArgv(argv: string[], env: NodeJS.ProcessEnv): { options: CostOptions; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      memory: { type: 'string', multiple: true },
      threads: { type: 'string', multiple: true },
      task: { type: 'string', multiple: true },
      arch: { type: 'string' },
      price: { type: 'string', multiple: true },
      'max-step-seconds': { type: 'string' },
      'pick-max-memory': { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const taskList = tasks(values.task);
  const options: CostOptions = {
    ...d,
    memoriesMb: memories(values.memory),
    threads: threads(values.threads),
    architecture: architecture(values.arch),
    prices: prices(values.price, env),
    maxStepSeconds: values['max-step-seconds'] === undefined ? d.maxStepSeconds : wholeNumber(values['max-step-seconds'], '--max-step-seconds', 1, 900),
    pickMaxMemoryMb:
      values['pick-max-memory'] === undefined ? d.pickMaxMemoryMb : wholeNumber(values['pick-max-memory'], '--pick-max-memory', d.pickMinMemoryMb, LAMBDA_MEMORY_RANGE_MB.max),
    ...(taskList ? { taskIds: taskList } : {}),
  };
  return { options, json: values.json ?? false };
}

export const costCommand: CliCommand = {
  name: 'cost',
  summary: 'model the AWS cost of a full episode per task and training memory; picks the training defaults',
  help: HELP,
  async run(argv, io) {
    const { options, json } = parseCostArgv(argv, io.env);
    const report = evaluateCosts(options);
    if (json) {
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      io.stdout.write(`${renderCostTable(report)}\n\n${renderAssumptions(report)}\n`);
    }
    return 0;
  },
};
