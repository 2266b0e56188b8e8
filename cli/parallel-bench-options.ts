import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isTaskId, taskIds } from '../layers/core/src';
import { UsageError } from './command';
import { TRAINING_OPTIONS, type TrainingOptionValues } from './training-options';

export const PARALLEL_BENCH_HELP = `Usage: ml-trainer bench --parallel [--task easy_mnist] [--episodes 2] [--seeds 1,2]
                        [--via in-process|server|both] [--workers N] [--data-dir <dir>] [--json]

Plays the same baseline-policy episodes first one after the other, then all at once, and
prints the wall time of each pass and their ratio (concurrent / serial; 0.5 is perfect use
of 2 cores, 1.0 no gain). Each pass starts a fresh trainer pool (in-process) or a fresh
local server over REST (server), so both pay their start-up; the task's subsets are loaded
once before timing (decoded-subset cache warm). The scores of both passes are compared: the
same seeds must give the same scores.

Options:
  --task <id>            ${taskIds().join(', ')} (default easy_mnist)
  --episodes <N>         how many episodes (default 2; 2 to 16)
  --seeds <list>         their seeds, comma-separated (default 1,2,...,N); sets --episodes
  --via <mode>           in-process (the eval's way), server (\`ml-trainer serve\` over REST), or both (default in-process)
  --workers <N>          the trainer worker pool's size (default: $ML_TRAINER_WORKERS, else one per core)
  --data-dir <dir>       where the datasets are (default: $ML_TRAINER_DATA_DIR, else ~/.cache/ml-trainer/datasets)
  --trainer <tfjs|formula>  formula: the closed-form stand-in (tests of this command; no timing meaning)
  --json                 print one JSON document
  -h, --help             show this help

Each pass also reports its CPU seconds (this process and its trainer workers): about equal
when running at once costs no extra work. The kernel shares the CPU between sessions, so on a
machine busy with other sessions the concurrent pass gets no more CPU than the serial one and
the ratio tends to 1: measure the ratio on a quiet machine (load averages are printed with it).`;

export type BenchVia = 'in-process' | 'server';

export interface ParallelBenchOptions {
  task: string;
  seeds: number[];
  via: BenchVia[];
  workers?: number;
  training: TrainingOptionValues;
  json: boolean;
}

const seedSchema = z.string().trim().regex(/^\d+$/, 'a whole number').transform(Number).pipe(z.number().int().min(0).max(2 ** 31 - 1));
const countSchema = (min: number, max: number) => z.string().trim().regex(/^\d+$/, 'a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

function parsed<T>(schema: z.ZodType<T>, flag: string, text: string): T {
  const result = schema.safeParse(text);
  if (!result.success) throw new UsageError(`--${flag} ${JSON.stringify(text)}: ${result.error.issues.map((i) => i.message).join('; ')}`);
  return result.data;
}

/** The arguments after `bench --parallel`; bad input is a UsageError. */
export function parseParallelBenchArgv(argv: string[]): ParallelBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      task: { type: 'string' },
      episodes: { type: 'string' },
      seeds: { type: 'string' },
      via: { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': TRAINING_OPTIONS['data-dir'],
      trainer: TRAINING_OPTIONS.trainer,
    },
    strict: true,
    allowPositionals: false,
  });
  const task = values.task ?? 'easy_mnist';
  if (!isTaskId(task)) throw new UsageError(`unknown task ${JSON.stringify(task)}; tasks: ${taskIds().join(', ')}`);
  if (values.seeds !== undefined && values.episodes !== undefined) throw new UsageError('give --seeds or --episodes, not both');
  const seeds =
    values.seeds !== undefined
      ? values.seeds.split(',').map((s) => parsed(seedSchema, 'seeds', s))
      : Array.from({ length: parsed(countSchema(2, 16), 'episodes', values.episodes ?? '2') }, (_, i) => i + 1);
  if (seeds.length < 2 || seeds.length > 16) throw new UsageError(`--seeds needs 2 to 16 seeds, got ${seeds.length}`);
  if (new Set(seeds).size !== seeds.length) throw new UsageError('--seeds has a seed twice; give distinct seeds');
  const via = values.via ?? 'in-process';
  if (via !== 'in-process' && via !== 'server' && via !== 'both') throw new UsageError(`--via must be in-process, server or both, got ${JSON.stringify(via)}`);
  if (values.trainer !== undefined && values.trainer !== 'tfjs' && values.trainer !== 'formula') {
    throw new UsageError(`--trainer must be tfjs or formula, got ${JSON.stringify(values.trainer)}`);
  }
  return {
    task,
    seeds,
    via: via === 'both' ? ['in-process', 'server'] : [via],
    ...(values.workers === undefined ? {} : { workers: parsed(countSchema(1, 64), 'workers', values.workers) }),
    training: { 'data-dir': values['data-dir'], trainer: values.trainer, 'allow-unverified-data': true },
    json: values.json ?? false,
  };
}

