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
import { gradeSummaryLines } from '../grade-summary';
import { fill, TERMINAL_WIDTH } from '../help-text';
import { describeStep, stepLine, stepViewOf, stepViewOfLine, refusalText, type StepView } from '../step-line';
import { parseToolCalls } from '../tool-calls';
import { TRAINING_OPTIONS, TRAINING_OPTIONS_HELP, trainerFactoryFor, trainingArgv, type TrainingOptionValues } from '../training-options';
import { newEpisode } from './step';

const HELP = `Usage: ml-trainer run --task <id> --actions <file|-> [--seed N] [options]

Plays a scripted list of tool calls through the environment with real training and
prints every step, then the grade. The actions file is a JSON array:

  [{"tool": "configure_training", "arguments": {"optimizer": "adamw"}},
   {"tool": "run_epochs", "arguments": {"num_epochs": 5}},
   {"tool": "submit_model"}]

Options:
  --task <id>                ${taskIdsInWords()}
  --actions <file|->         the scripted tool calls ("-" reads standard input), each
                             {"tool", "arguments"?, "reason"?}
  --seed <N>                 the episode seed (default: the task's seed)
  --allow-invalid            a call the environment refuses (bad arguments, an unknown
                             tool) is part of the script's intent: exit 0 all the same
  --fresh-process-per-step   run every step in a new process that restores the previous
                             step's saved record and checkpoint (prints identical lines)
  --state-dir <dir>          where --fresh-process-per-step keeps the episode (default: a temp dir)
${TRAINING_OPTIONS_HELP}
  --json                     one JSON line per step {step, tool, observation, reward, done},
                             then {"grade", "total_reward", "status", "submitted", "refused"};
                             progress goes to stderr
  -h, --help                 show this help

Each step prints its call, then its reward, epoch, val accuracy, best val accuracy and
the convergence signal (or why it was refused). Epoch lines (stderr) show loss and
accuracy as train/val.

The actions stop at the end of the episode (submit_model or the 15th step). If the
script does not end it, the last line grades the episode as a submission would.

Exit codes: 0 every call was accepted (or --allow-invalid); 3 the environment refused
some calls (each still counted as a step; the summary says which and why); 2 bad
options or an unreadable actions file; 1 any other failure.`;

/** The exit code when the environment refused some of the script's calls. */
const EXIT_REFUSED = 3;
/** How many refusals the summary spells out. */
const REFUSALS_SHOWN = 3;

interface RunValues extends TrainingOptionValues {
  task?: string;
  actions?: string;
  seed?: string;
  json?: boolean;
  'fresh-process-per-step'?: boolean;
  'state-dir'?: string;
  'allow-invalid'?: boolean;
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
        'allow-invalid': { type: 'boolean' },
        ...TRAINING_OPTIONS,
      },
      strict: true,
    });
    if (values.actions === undefined) throw new UsageError('--actions <file|-> is required');
    const start = newEpisode(values.task, values.seed);
    const calls = parseToolCalls(await readJsonInput(values.actions, io.stdin, 'actions'), 'actions');
    const played = values['fresh-process-per-step']
      ? await runInFreshProcesses(start, calls, values, io)
      : await runInProcess(start, calls, values, io);
    const refused = refusalsOf(played.views);
    printSummary(played, calls.length, refused, values.json ?? false, io);
    if (refused.length === 0 || values['allow-invalid']) return 0;
    io.stderr.write(`ml-trainer run: ${plural(refused.length, 'call')} refused; fix the script or pass --allow-invalid\n`);
    return EXIT_REFUSED;
  },
};

function emit(line: Record<string, unknown>, human: string, json: boolean, io: CliIO): void {
  io.stdout.write(json ? `${JSON.stringify(line)}\n` : `${human}\n`);
}

/** The episode after the script, and every step as it was shown. */
interface Played {
  record: EpisodeRecord;
  views: StepView[];
}

async function runInProcess(start: EpisodeRecord, calls: ToolCall[], values: RunValues, io: CliIO): Promise<Played> {
  const factory = await trainerFactoryFor(values, io, start.task_id);
  const trainer = await factory.create({ taskId: start.task_id, seed: start.seed });
  let record = start;
  const views: StepView[] = [];
  try {
    for (const call of calls) {
      if (record.status !== 'active') break;
      const result = await executeStep(record, call, trainer, { onEpoch: epochProgressPrinter(io.stderr) });
      views.push(stepViewOf(result));
      emit(stepLine(result), describeStep(views.at(-1)!), values.json ?? false, io);
      record = result.record;
    }
  } finally {
    trainer.dispose();
  }
  return { record, views };
}

async function runInFreshProcesses(start: EpisodeRecord, calls: ToolCall[], values: RunValues, io: CliIO): Promise<Played> {
  const dir = values['state-dir'] ?? (await mkdtemp(join(tmpdir(), 'ml-trainer-run-')));
  const base = ['step', '--state-dir', dir, '--task', start.task_id, '--seed', String(start.seed), ...trainingArgv(values)];
  try {
    let record = start;
    const views: StepView[] = [];
    for (const call of calls) {
      if (record.status !== 'active') break;
      const line = await runChild([...base, '--json', '--action', JSON.stringify(call)], io);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const saved = await loadSavedEpisode(dir);
      record = saved!.record;
      views.push(stepViewOfLine(parsed, record));
      emit(parsed, describeStep(views.at(-1)!), values.json ?? false, io);
    }
    return { record, views };
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

function refusalsOf(views: StepView[]): StepView[] {
  return views.filter((v) => v.error !== null);
}

function printSummary(played: Played, actions: number, refused: StepView[], json: boolean, io: CliIO): void {
  const { record, views } = played;
  const submitted = record.status !== 'active';
  const grade = record.grade ?? gradeEpisode(gradeInputOf(record));
  const unplayed = actions - record.steps.length;
  if (unplayed > 0) io.stderr.write(`note: the episode ended; the last ${unplayed} action(s) were not played\n`);
  if (json) {
    const summary = { grade, total_reward: record.total_reward, status: record.status, submitted, refused: refused.length };
    io.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const seen = views.map((v) => ({ step: v.step, best_val_accuracy: Number(v.data.best_val_accuracy ?? 0) }));
  const lines = [...gradeSummaryLines(record, seen), `  total reward ${record.total_reward}, ${plural(record.step_count, 'step')}, ${record.budget_used} epochs used`];
  if (refused.length > 0) {
    lines.push(`  ${plural(refused.length, 'call')} refused (each still counted as a step):`);
    for (const r of refused.slice(0, REFUSALS_SHOWN)) lines.push(...fill(words(`step ${r.step} ${r.tool}: ${refusalText(r)}`), '    ', '      ', TERMINAL_WIDTH));
    if (refused.length > REFUSALS_SHOWN) lines.push(`    and ${refused.length - REFUSALS_SHOWN} more (--json has every step)`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}
