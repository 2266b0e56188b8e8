import { parseArgs } from 'node:util';
import { CoreError, gradeEpisode, parseGradeInput } from '../../layers/core/src';
import { UsageError, type CliCommand } from '../command';
import { readJsonInput } from '../read-input';

const HELP = `Usage: ml-trainer grade --metrics <file | ->

Grades stored trainer metrics with the task's grader and prints {"score", "details"} as JSON.

Options:
  --metrics <file|->  the metrics JSON ("-" reads standard input):
                      {"task_id", "current_epoch", "best_val_accuracy", "best_val_epoch",
                       "train_loss_history", "val_loss_history",
                       "train_acc_history", "val_acc_history"}
  --json              accepted for symmetry; the output is always JSON
  -h, --help          show this help

Exit codes: 0 graded, 2 bad input (the message names the field).`;

export const gradeCommand: CliCommand = {
  name: 'grade',
  summary: 'grade stored trainer metrics (JSON in, {"score","details"} out)',
  help: HELP,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: { metrics: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
    if (values.metrics === undefined) throw new UsageError('--metrics <file|-> is required');
    const raw = await readJsonInput(values.metrics, io.stdin, 'metrics');
    try {
      io.stdout.write(`${JSON.stringify(gradeEpisode(parseGradeInput(raw)))}\n`);
    } catch (e) {
      if (e instanceof CoreError) throw new UsageError(e.message);
      throw e;
    }
    return 0;
  },
};
