import { CoreError, DatasetUnavailableError } from '../layers/core/src';
import { DatasetError } from '../layers/datasets/src';
import { UsageError, type CliCommand, type CliIO } from './command';
import { nodeAdvice } from './node-advice';
import { formatHelp } from './help-text';
import { agentCommand } from './commands/agent';
import { benchCommand } from './commands/bench';
import { costCommand } from './commands/cost';
import { cloudCommand } from './commands/cloud';
import { datasetsCommand } from './commands/datasets';
import { evalCommand } from './commands/eval';
import { gradeCommand } from './commands/grade';
import { reportCommand } from './commands/report';
import { runCommand } from './commands/run';
import { serveCommand } from './commands/serve';
import { stepCommand } from './commands/step';
import { subsetCommand } from './commands/subset';
import { tasksCommand } from './commands/tasks';

/** Every sub-command; heavy dependencies (tfjs) are loaded only by the commands that train. */
function commands(): CliCommand[] {
  return [tasksCommand, gradeCommand, runCommand, stepCommand, subsetCommand, datasetsCommand, serveCommand, agentCommand, evalCommand, reportCommand, benchCommand, cloudCommand, costCommand];
}

function overview(list: CliCommand[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'ml-trainer: an evaluation environment in which an AI agent plays ML engineer.',
    '',
    'Usage: ml-trainer <command> [options]     (ml-trainer <command> --help for its options)',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const list = commands();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(formatHelp(overview(list)));
    return name === undefined ? 2 : 0;
  }
  const command = list.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`ml-trainer: unknown command ${JSON.stringify(name)}; commands: ${list.map((c) => c.name).join(', ')}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(formatHelp(command.help));
    return 0;
  }
  const advice = nodeAdvice(process.version, io.env);
  if (advice) io.stderr.write(advice);
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof CoreError || isArgParseError(e)) {
      io.stderr.write(`ml-trainer ${name}: ${(e as Error).message}\n(see ml-trainer ${name} --help)\n`);
      return 2;
    }
    if (e instanceof DatasetUnavailableError || e instanceof DatasetError) {
      // Not a fault of the program: the message names the dataset, the folder and how to get the files.
      io.stderr.write(`ml-trainer ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** node:util parseArgs reports unknown or malformed options with these codes. */
function isArgParseError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}
