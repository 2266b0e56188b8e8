import { parseArgs } from 'node:util';
import { createEpisode, executeStep, taskIds, type ToolCall } from '../../layers/core/src';
import { UsageError, type CliCommand } from '../command';
import { epochProgressPrinter } from '../epoch-progress';
import { loadSavedEpisode, saveEpisode } from '../episode-files';
import { describeStep, stepLine, stepViewOf } from '../step-line';
import { TRAINING_OPTIONS, TRAINING_OPTIONS_HELP, trainerFactoryFor } from '../training-options';
import { parseToolCall } from '../tool-calls';

const HELP = `Usage: ml-trainer step --state-dir <dir> --action <json> [--task <id>] [--seed N] [options]

Executes one tool call on the episode saved in <dir> and saves it again (record and trainer
checkpoint, written atomically). An empty <dir> starts a new episode of --task.

Options:
  --state-dir <dir>        the episode's directory
  --action <json>          the call, e.g. '{"tool":"run_epochs","arguments":{"num_epochs":5}}'
                           ("reason": the agent's reason, stored with the step)
  --task <id>              the task of a new episode (${taskIds().join(', ')})
  --seed <N>               the seed of a new episode (default: the task's seed)
${TRAINING_OPTIONS_HELP}
  --json                   print the step as one JSON line {step, tool, observation, reward, done}
  -h, --help               show this help`;

export const stepCommand: CliCommand = {
  name: 'step',
  summary: 'execute one tool call on an episode saved in a directory',
  help: HELP,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        'state-dir': { type: 'string' },
        action: { type: 'string' },
        task: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        ...TRAINING_OPTIONS,
      },
      strict: true,
    });
    const dir = values['state-dir'];
    if (dir === undefined) throw new UsageError('--state-dir <dir> is required');
    if (values.action === undefined) throw new UsageError('--action <json> is required');
    const call: ToolCall = parseToolCall(parseJson(values.action), '--action');
    const saved = await loadSavedEpisode(dir);
    const record = saved?.record ?? newEpisode(values.task, values.seed);
    const factory = await trainerFactoryFor(values, io, record.task_id);
    const spec = { taskId: record.task_id, seed: record.seed };
    const trainer = saved ? await factory.restore(spec, saved.checkpoint) : await factory.create(spec);
    try {
      const result = await executeStep(record, call, trainer, { onEpoch: epochProgressPrinter(io.stderr) });
      await saveEpisode(dir, { record: result.record, checkpoint: await trainer.saveCheckpoint() });
      io.stdout.write(values.json ? `${JSON.stringify(stepLine(result))}\n` : `${describeStep(stepViewOf(result))}\n`);
    } finally {
      trainer.dispose();
    }
    return 0;
  },
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--action is not valid JSON: ${(e as Error).message}`);
  }
}

export function newEpisode(task: string | undefined, seed: string | undefined) {
  if (task === undefined) throw new UsageError('--task <id> is required to start a new episode');
  return createEpisode(task, parseSeed(seed));
}

export function parseSeed(seed: string | undefined): number | undefined {
  if (seed === undefined) return undefined;
  if (!/^\d+$/.test(seed) || !Number.isSafeInteger(Number(seed))) {
    throw new UsageError(`--seed must be a non-negative integer, got ${JSON.stringify(seed)}`);
  }
  return Number(seed);
}
