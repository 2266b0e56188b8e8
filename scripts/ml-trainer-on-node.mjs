// `npm start` / `npm run bench`: `bin/ml-trainer.js <args>` on a supported Node, the machine's
// own when it is 22 or newer, else the pinned Node 22 (fetched once from the npm registry, see
// node-runtime.mjs). tfjs-node's and classic-level's bindings are N-API, so the modules `npm ci`
// built on an older Node load on 22 as they are.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envOn, nodeOfLine, SUITE_LINE } from './node-runtime.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'ml-trainer.js');

/**
 * The child runs in a process group of its own, so every signal reaches it exactly once, through
 * this process: a terminal's Ctrl-C signals the foreground group (npm, this process), and a
 * `kill -INT <npm's pid>` reaches only npm, which passes it to this process. In one group with
 * the child, Ctrl-C would reach it twice (a second SIGINT stops the server without its clean
 * shutdown), and a SIGINT sent to npm alone would not reach it if this process held it back.
 */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const PARENT_CHECK_MS = 500;

function run(args) {
  const runtime = nodeOfLine(SUITE_LINE);
  if (runtime.node !== process.execPath) {
    process.stderr.write(`note: running on Node ${runtime.version} (this machine's ${process.version} is unsupported)\n`);
  }
  const child = spawn(runtime.node, [CLI, ...args], { cwd: process.cwd(), env: envOn(runtime), stdio: 'inherit', detached: true });
  // Each signal is passed on, a second Ctrl-C too (it ends a shutdown that hangs, as without npm).
  let signalled = false;
  for (const signal of FORWARDED) {
    process.on(signal, () => {
      signalled = true;
      child.kill(signal);
    });
  }
  // npm passes a SIGTERM on to `sh -c`, not to this process: when npm and sh are gone (this
  // process re-parented) and no signal came, the server is stopped as npm was, not left running.
  // (After a Ctrl-C, npm and sh are gone too; the server is already stopping.)
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent || signalled) return;
    signalled = true;
    child.kill('SIGTERM');
  }, PARENT_CHECK_MS).unref();
  child.on('error', (err) => {
    process.stderr.write(`could not start ${runtime.node}: ${err.message}; delete node_modules/.cache/node-runtimes and run the command again\n`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // Ends the same way the child did, so a caller sees the signal, not a made-up code.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exitCode = code ?? 1;
  });
}

try {
  run(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`ml-trainer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
