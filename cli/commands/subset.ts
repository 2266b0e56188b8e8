import { parseArgs } from 'node:util';
import { getTask, isTaskId, taskIds } from '../../layers/core/src';
import { subsetIndices } from '../../layers/datasets/src';
import { UsageError, type CliCommand } from '../command';

const HELP = `Usage: ml-trainer subset --task <${taskIds().join('|')}> [--seed N] [--json]

Prints a task's subset: the rows of the official training split used for training and
for validation, drawn as PyTorch draws them (torch.randperm with a generator seeded
with the seed; the first rows train, the next ones validate).

Options:
  --task <id>   the task (${taskIds().join(', ')})
  --seed <N>    another seed than the task's (an integer in [-2^63, 2^64 - 1], as torch accepts)
  --json        print {"train": [...], "val": [...]} (the full lists)
  -h, --help    show this help`;

export const subsetCommand: CliCommand = {
  name: 'subset',
  summary: "print a task's train/validation row indices (--json for the full lists)",
  help: HELP,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { task: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    });
    if (values.task === undefined) throw new UsageError(`--task is required (${taskIds().join(', ')})`);
    if (!isTaskId(values.task)) {
      throw new UsageError(`unknown task ${JSON.stringify(values.task)}; tasks: ${taskIds().join(', ')}`);
    }
    const task = getTask(values.task);
    const seed = values.seed === undefined ? BigInt(task.seed) : parseSeed(values.seed);
    const { official_train_size, train, val } = task.subset;
    const subset = subsetIndices(official_train_size, seed, train, val);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(subset)}\n`);
      return 0;
    }
    const head = (list: number[]) => `${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}`;
    io.stdout.write(
      `${task.task_id}: ${task.dataset_name}, seed ${seed}: ${train} training and ${val} validation rows ` +
        `of the official training split (${official_train_size} images)\n` +
        `train: ${head(subset.train)}\nval:   ${head(subset.val)}\n(--json prints the full lists)\n`,
    );
    return 0;
  },
};

const MIN_SEED = -(1n << 63n);
const MAX_SEED = (1n << 64n) - 1n;

function parseSeed(text: string): bigint {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`--seed must be an integer, got ${JSON.stringify(text)}`);
  const seed = BigInt(text.trim());
  if (seed < MIN_SEED || seed > MAX_SEED) throw new UsageError(`--seed must be in [-2^63, 2^64 - 1] (as torch accepts), got ${seed}`);
  return seed;
}
