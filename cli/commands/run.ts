import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { executeStep, gradeEpisode, gradeInputOf, taskIdsInWords, type EpisodeRecord, type ToolCall } from '../../layers/core/src';
import { binPath } from '../bin-path';
import { UsageError, type CliCommand, type CliIO } from '../command';
import { epochProgressPrinter } from '../epoch-progress';
import { loadSavedEpisode } from '../episode-files';
import { readJsonInput } from '../read-input';
import { describeStep, stepLine } from '../step-line';
import { parseToolCalls } from '../tool-calls';
import { TRAINING_OPTIONS, TRAINING_OPTIONS_HELP, trainerFactoryFor, trainingArgv, type TrainingOptionValues } from '../training-options';
import { newEpisode } from './step';

const HELP = `Usage: ml-trainer run --task <id> --actions <file|-> [--seed N] [options]

Plays a scripted list of tool calls through the environment with real training and
prints every step, then the grade.

  actions file: [{"tool": "configure_training", "arguments": {...}}, {"tool": "run_epochs"}, ...]

Options:
  --task <id>                ${taskIdsInWords()}
  --actions <file|->         the scripted tool calls ("-" reads standard input), each
                             {"tool", "arguments"?, "reason"?}
  --seed <N>                 the episode seed (default: the task's seed)
  --fresh-process-per-step   run every step in a new process that restores the previous
                             step's saved record and checkpoint (prints identical lines)
  --state-dir <dir>          where --fresh-process-per-step keeps the episode (default: a temp dir)
${TRAINING_OPTIONS_HELP}
  --json                     one JSON line per step {step, tool, observation, reward, done},
                             then {"grade", "total_reward", "status"}; progress goes to stderr
  -h, --help                 show this help

The actions stop at the end of the episode (submit_model or the 15th step). If the
script does not end it, the last line grades the episode as a submission would.`;

interface RunValues extends TrainingOptionValues {
  task?: string;
  actions?: string;
  seed?: string;
  json?: boolean;
  'fresh-process-per-step'?: boolean;
  'state-dir'?: string;
}

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'play a scripted episode (a list of tool calls) with real training',
  help: HELP,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        task: { type: 'string' },
        actions: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        'fresh-process-per-step': { type: 'boolean' },
        'state-dir': { type: 'string' },
        ...TRAINING_OPTIONS,
      },
      strict: true,
    });
    if (values.actions === undefined) throw new UsageError('--actions <file|-> is required');
    const start = newEpisode(values.task, values.seed);
    const calls = parseToolCalls(await readJsonInput(values.actions, io.stdin, 'actions'), 'actions');
    const record = values['fresh-process-per-step']
      ? await runInFreshProcesses(start, calls, values, io)
      : await runInProcess(start, calls, values, io);
    printSummary(record, calls.length, values.json ?? false, io);
    return 0;
  },
};

function emit(line: Record<string, unknown>, human: string, json: boolean, io: CliIO): void {
  io.stdout.write(json ? `${JSON.stringify(line)}\n` : `${human}\n`);
}

async function runInProcess(start: EpisodeRecord, calls: ToolCall[], values: RunValues, io: CliIO): Promise<EpisodeRecord> {
  const factory = await trainerFactoryFor(values, io, start.task_id);
  const trainer = await factory.create({ taskId: start.task_id, seed: start.seed });
  let record = start;
  try {
    for (const call of calls) {
      if (record.status !== 'active') break;
      const result = await executeStep(record, call, trainer, { onEpoch: epochProgressPrinter(io.stderr) });
      emit(stepLine(result), describeStep(result), values.json ?? false, io);
      record = result.record;
    }
  } finally {
    trainer.dispose();
  }
  return record;
}

async function runInFreshProcesses(start: EpisodeRecord, calls: ToolCall[], values: RunValues, io: CliIO): Promise<EpisodeRecord> {
  const dir = values['state-dir'] ?? (await mkdtemp(join(tmpdir(), 'ml-trainer-run-')));
  const base = ['step', '--state-dir', dir, '--task', start.task_id, '--seed', String(start.seed), ...trainingArgv(values)];
  try {
    let record = start;
    for (const call of calls) {
      if (record.status !== 'active') break;
      const line = await runChild([...base, '--json', '--action', JSON.stringify(call)], io);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const saved = await loadSavedEpisode(dir);
      record = saved!.record;
      const human = `step ${parsed.step} ${parsed.tool} reward ${parsed.reward}`;
      emit(parsed, human, values.json ?? false, io);
    }
    return record;
  } finally {
    if (values['state-dir'] === undefined) await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `ml-trainer <argv>` in a new process; its stderr (progress) passes through, its stdout is the result. */
function runChild(argv: string[], io: CliIO): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath(), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: io.env });
    let out = '';
    child.stdout.on('data', (c) => (out += String(c)));
    child.stderr.on('data', (c) => io.stderr.write(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out.trim());
      else reject(new Error(`step process exited with code ${code}`));
    });
  });
}

function printSummary(record: EpisodeRecord, actions: number, json: boolean, io: CliIO): void {
  const submitted = record.status !== 'active';
  const grade = record.grade ?? gradeEpisode(gradeInputOf(record));
  const unplayed = actions - record.steps.length;
  if (unplayed > 0) io.stderr.write(`note: the episode ended; the last ${unplayed} action(s) were not played\n`);
  const summary = { grade, total_reward: record.total_reward, status: record.status, submitted };
  const human = `${submitted ? 'Grade' : 'Grade if submitted now'}: ${grade.score}  ${JSON.stringify(grade.details)}  total reward ${record.total_reward}`;
  emit(summary, human, json, io);
}
