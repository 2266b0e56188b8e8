/** Where a command writes: results to stdout, progress and diagnostics to stderr. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/** One `ml-trainer <name>` sub-command. */
export interface CliCommand {
  name: string;
  /** One line for `ml-trainer --help`. */
  summary: string;
  /** The full text `ml-trainer <name> --help` prints. */
  help: string;
  /** Returns the process exit code: 0 success, 2 bad input, 1 any other failure. */
  run(argv: string[], io: CliIO): Promise<number>;
}

/** A failure caused by what the user gave us; the CLI prints its message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
