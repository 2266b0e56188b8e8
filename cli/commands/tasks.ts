import { parseArgs } from 'node:util';
import { listTasks } from '../../layers/core/src';
import type { CliCommand } from '../command';

const HELP = `Usage: ml-trainer tasks [--json]

Lists the tasks: id, difficulty, model, dataset, epoch budget, seed and grading bounds.

Options:
  --json      the full task definitions as a JSON array
  -h, --help  show this help`;

export const tasksCommand: CliCommand = {
  name: 'tasks',
  summary: 'list the tasks (--json for the full definitions)',
  help: HELP,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, strict: true });
    const tasks = listTasks();
    if (values.json) {
      io.stdout.write(`${JSON.stringify(tasks, null, 2)}\n`);
      return 0;
    }
    for (const t of tasks) {
      io.stdout.write(
        `${t.task_id.padEnd(15)} ${t.difficulty.padEnd(6)} ${t.model_type.padEnd(10)} ${t.dataset_name.padEnd(13)} ` +
          `budget ${String(t.max_epochs).padStart(3)} epochs  seed ${t.seed}  score 0 at ${t.min_score_accuracy}, 1 at ${t.max_score_accuracy}\n`,
      );
    }
    return 0;
  },
};
