import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, delimiter, dirname, join } from 'node:path';

/** README text run through `bash -c`, as a newcomer's terminal would. */
export interface ShellRun {
  command: string;
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr. */
  output(): { stdout: string; stderr: string };
  /** Its exit code (a signal's name if one ended it). */
  exited: Promise<number | string>;
}

/** Starts `command` in its own process group, so `interrupt` reaches every process of it as Ctrl-C does. */
export function startShell(command: string, cwd: string, env: NodeJS.ProcessEnv): ShellRun {
  const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<number | string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return { command, child, output: () => ({ stdout, stderr }), exited };
}

/** Runs `command` to its end. */
export async function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const run = startShell(command, cwd, env);
  const code = await run.exited;
  return { code, ...run.output() };
}

/**
 * SIGINT to the outermost Node process under the command that runs the script `script` (for
 * `npm start`: bash → npm → sh → launcher → node …/bin/ml-trainer.js serve, the server, not
 * its trainer workers); its exit code then comes back up the chain. Not Ctrl-C, which signals
 * the whole group: sh dies of it at once and npm exits 130 whatever the server does.
 */
export function interruptNodeRunning(run: ShellRun, script: string): void {
  const pending = run.child.pid === undefined ? [] : [run.child.pid];
  for (let pid = pending.shift(); pid !== undefined; pid = pending.shift()) {
    const [argv0 = '', ...args] = argvOf(pid);
    if (basename(argv0) === 'node' && args.some((arg) => basename(arg) === script)) {
      process.kill(pid, 'SIGINT');
      return;
    }
    pending.push(...childrenOf(pid));
  }
  throw new Error(`no node process running ${script} under ${JSON.stringify(run.command)}`);
}

/** A process's command line, from Linux's procfs ([] once it is gone). */
function argvOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Linux's list of a process's children (procfs). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** What a test leaves running is killed outright. */
export function killGroup(run: ShellRun | undefined): void {
  if (run?.child.pid === undefined || run.child.exitCode !== null || run.child.signalCode !== null) return;
  try {
    process.kill(-run.child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/**
 * A PATH on which `npm` and `npx` are this checkout's: shims in `binDir` that call the real
 * ones with `--prefix <repo>`, so the README's commands can run in a scratch folder (where
 * `--out episode.html` lands) as they would in the clone. This Node comes next, so npm runs on it.
 */
export function pathWithCheckoutNpm(repo: string, binDir: string, basePath: string): string {
  mkdirSync(binDir, { recursive: true });
  const rest = `${dirname(process.execPath)}${delimiter}${basePath}`;
  for (const tool of ['npm', 'npx']) {
    const real = onPath(tool, rest);
    writeFileSync(join(binDir, tool), `#!/bin/sh\nexec '${real}' --prefix '${repo}' "$@"\n`, { mode: 0o755 });
  }
  return `${binDir}${delimiter}${rest}`;
}

function onPath(tool: string, path: string): string {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // Not in this one.
    }
  }
  throw new Error(`no ${tool} on PATH (${path}): the README's commands need npm`);
}
