import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BATCH_SIZES, isTaskId, taskIds } from '../../layers/core/src';
import { findRepoRoot, formatReport } from '../../layers/bench/src';
import { DatasetError, resolveDataDir, userCacheRoot } from '../../layers/datasets/src';
import { UsageError, type CliCommand } from '../command';
import { PARALLEL_BENCH_HELP } from '../parallel-bench-options';

const HELP = `Usage: ml-trainer bench [--task <id> ...] [--batch-sizes 32,64,128,256] [--epochs N] [--warmup N] [--rounds N]
                        [--data real|random] [--data-dir <dir>] [--vs-pytorch [--python <path>]] [--json]

Times real training on tfjs-node with the default config (adam 1e-3, dropout 0, constant LR):
  - seconds per epoch (train pass + val pass, wall clock, as pt_reference.py's timing measures):
    median, min and max of --epochs epochs after --warmup epochs, per task and batch size;
  - checkpoint size, save time, restore time (factory.restore + the first forward), and
    save + restore + commit (temp file write + fsync) as a share of a 5-epoch step;
  - a fresh \`ml-trainer run\` process (configure + run_epochs 5, dataset cache warm):
    time from spawn to the first training batch (start→epoch 1 begins) and to the first finished epoch, and its peak RSS;
  - achieved GFLOP/s of each train and val pass (the model's conv + matmul FLOPs, counted from its
    layers, × the pass's samples / its median seconds) as a % of the machine's peak: the fastest
    float32 matMul (2048² and 4096², TensorFlow's MatMul and oneDNN's) on the bench's threads;
  - latency of the calls that train nothing (create, configure_training, toggle_augmentation,
    adjust_learning_rate, get_training_status, submit_model) through a real local server
    (\`ml-trainer serve\` on a free port, temporary state, REST with keep-alive): p50/p90/p99/max;
  - with --vs-pytorch: PyTorch's figures from pt_reference.py timing, run alternately with
    ours per (task, batch size) on the same data, and the ratio ours / PyTorch;
  - with --rounds N: ours and PyTorch alternate N times per (task, batch size) (ours, PyTorch,
    ours, PyTorch, ...), each round with its own warm-up epochs (ours on the same trainer); the
    median, min, max and ratio pool every round's measured epochs, and each round's median is
    listed too. Checkpoint and fresh-process figures are measured once.
TensorFlow gets 2 intra-op and 2 inter-op threads (TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS,
unless set), PyTorch 2 threads (torch.set_num_threads(2) in the script). With real data each task
trains as the product trains it: easy_mnist on 1 intra-op thread in a worker process (its CPU
seconds are not counted), the CNNs in the bench process.

Options:
  --task <id>               ${taskIds().join(', ')}; repeat or comma-separate (default: all)
  --batch-sizes <list>      comma-separated, from 32,64,128,256 (default: 32,64,128,256)
  --epochs <N>              measured epochs per task and batch size (default 3)
  --warmup <N>              warm-up epochs before them, not counted (default 1)
  --rounds <N>              rounds of ours then PyTorch per task and batch size, each with --warmup +
                            --epochs epochs, pooled (default 1; a positive whole number up to 1000)
  --data <real|random>      real: the task's subset from --data-dir (unverified files such as the CIFAR
                            JPEG stand-in are accepted with a warning); random: random uint8 images of
                            the right shape. Default: real where the files are on disk, else random.
  --data-dir <dir>          where the datasets are (default: $ML_TRAINER_DATA_DIR, else ~/.cache/ml-trainer/datasets)
  --vs-pytorch              also time the PyTorch original (pt_reference.py timing) and compare
  --python <path>           a Python interpreter that already has torch (e.g. /tmp/ptvenv/bin/python);
                            without it the bench uses, or creates, the venv of --venv and runs
                            \`pip install torch==2.13.0 numpy\` there (from the machine's pip index)
  --venv <dir>              that venv (default ~/.cache/ml-trainer/ptvenv)
  --pytorch-script <path>   pt_reference.py (default ../shared/reference/pt_reference.py from the repository root)
  --no-child                skip the fresh-process figures (start → first epoch, peak RSS)
  --no-server               skip the local server's call latencies
  --bin <path>              the ml-trainer entry the child processes and the server run (default: bin/ml-trainer.js
                            of this installation, which runs dist/cli.js: \`npm run build\` first)
  --json                    print one JSON document instead of the tables
  -h, --help                show this help

Results go to stdout, progress to stderr. Timings on a shared 2-core machine are noisy:
read the load averages printed with them.

${PARALLEL_BENCH_HELP}`;

export interface BenchCliOptions {
  tasks: string[];
  batchSizes: number[];
  epochs: number;
  warmup: number;
  rounds: number;
  data: 'auto' | 'real' | 'random';
  dataDir: string;
  vsPytorch: boolean;
  python?: string;
  venvDir: string;
  pytorchScript: string;
  childProcesses: boolean;
  serverLatency: boolean;
  /** The ml-trainer entry the child processes run. */
  bin: string;
  json: boolean;
  repoRoot: string;
}

function listOf(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function unique<T>(values: T[]): T[] {
  return values.filter((v, i) => values.indexOf(v) === i);
}

function integer(text: string | undefined, name: string, min: number, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
  const n = Number(text.trim());
  if (n < min || n > 1000) throw new UsageError(`${name} must be between ${min} and 1000, got ${n}`);
  return n;
}

/** Parses and checks the arguments; bad input is a UsageError (exit code 2). */
export function parseBenchArgv(argv: string[], env: NodeJS.ProcessEnv, repoRoot: string = findRepoRoot(__dirname)): BenchCliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      task: { type: 'string', multiple: true },
      'batch-sizes': { type: 'string', multiple: true },
      epochs: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      data: { type: 'string' },
      'data-dir': { type: 'string' },
      'vs-pytorch': { type: 'boolean' },
      python: { type: 'string' },
      venv: { type: 'string' },
      'pytorch-script': { type: 'string' },
      'no-child': { type: 'boolean' },
      'no-server': { type: 'boolean' },
      bin: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });

  const tasks = unique(listOf(values.task));
  for (const t of tasks) {
    if (!isTaskId(t)) throw new UsageError(`unknown task ${JSON.stringify(t)}; tasks: ${taskIds().join(', ')}`);
  }
  if (values.task !== undefined && tasks.length === 0) throw new UsageError('--task needs a task id');

  const sizeTexts = listOf(values['batch-sizes']);
  if (values['batch-sizes'] !== undefined && sizeTexts.length === 0) throw new UsageError('--batch-sizes needs a comma-separated list, e.g. 32,64');
  const batchSizes = unique(
    sizeTexts.map((s) => {
      const n = /^\d+$/.test(s) ? Number(s) : NaN;
      if (!(BATCH_SIZES as readonly number[]).includes(n)) {
        throw new UsageError(`batch size ${JSON.stringify(s)} is not one of ${BATCH_SIZES.join(', ')}`);
      }
      return n;
    }),
  );

  const data = values.data ?? 'auto';
  if (data !== 'auto' && data !== 'real' && data !== 'random') throw new UsageError(`--data must be real or random, got ${JSON.stringify(data)}`);
  const vsPytorch = values['vs-pytorch'] ?? false;
  for (const name of ['python', 'venv', 'pytorch-script'] as const) {
    if (values[name] !== undefined && !vsPytorch) throw new UsageError(`--${name} only applies with --vs-pytorch`);
  }
  if (values.python !== undefined && values.venv !== undefined) throw new UsageError('give --python or --venv, not both');
  if (data === 'random' && values['data-dir'] !== undefined) throw new UsageError('--data-dir has no use with --data random');
  if (values.bin !== undefined && values['no-child'] && values['no-server']) throw new UsageError('--bin has no use with --no-child and --no-server');
  const bin = resolve(values.bin ?? join(repoRoot, 'bin', 'ml-trainer.js'));
  if (values.bin !== undefined && !existsSync(bin)) throw new UsageError(`--bin ${values.bin}: no such file`);

  return {
    tasks: tasks.length > 0 ? tasks : [...taskIds()],
    batchSizes: batchSizes.length > 0 ? batchSizes : [...BATCH_SIZES],
    epochs: integer(values.epochs, '--epochs', 1, 3),
    warmup: integer(values.warmup, '--warmup', 0, 1),
    rounds: integer(values.rounds, '--rounds', 1, 1),
    data,
    dataDir: resolveDataDir(values['data-dir'], env),
    vsPytorch,
    ...(values.python !== undefined ? { python: values.python } : {}),
    venvDir: resolve(values.venv ?? join(userCacheRoot(env), 'ptvenv')),
    pytorchScript: resolve(values['pytorch-script'] ?? join(repoRoot, '..', 'shared', 'reference', 'pt_reference.py')),
    childProcesses: !(values['no-child'] ?? false),
    serverLatency: !(values['no-server'] ?? false),
    bin,
    json: values.json ?? false,
    repoRoot,
  };
}

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'time real training (seconds per epoch, checkpoints, cold start, memory), optionally against PyTorch; --parallel: episodes at once vs one after the other',
  help: HELP,
  async run(argv, io) {
    if (argv.includes('--parallel')) {
      const rest = argv.filter((a) => a !== '--parallel');
      // Loaded only here: it plays episodes (agent layer, server).
      const { runParallelBenchCommand } = await import('../parallel-bench');
      return runParallelBenchCommand(rest, io);
    }
    const options = parseBenchArgv(argv, io.env);
    // Loaded only here, after the option checks: it starts TensorFlow.
    const { runBench, BenchSetupError, PyTorchSetupError } = await import('../../layers/bench/src');
    try {
      const report = await runBench({
        ...options,
        env: io.env,
        log: (line) => io.stderr.write(`${line}\n`),
      });
      io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return 0;
    } catch (e) {
      if (e instanceof BenchSetupError || e instanceof PyTorchSetupError || e instanceof DatasetError) {
        io.stderr.write(`ml-trainer bench: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
