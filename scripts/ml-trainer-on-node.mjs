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
 * Ctrl-C in a terminal sends SIGINT to the whole foreground process group, the child included:
 * forwarding it would be a second Ctrl-C, which stops the server without its clean shutdown.
 * So SIGINT is only kept from ending this process before the child; SIGTERM and SIGHUP
 * (`kill <pid>`, a closing session) usually reach this process alone and are passed on.
 */
const FORWARDED = ['SIGTERM', 'SIGHUP'];

function run(args) {
  const runtime = nodeOfLine(SUITE_LINE);
  if (runtime.node !== process.execPath) {
    process.stderr.write(`Node ${process.version} is not supported: running ml-trainer on Node ${runtime.version} (kept in node_modules/.cache)\n`);
  }
  const child = spawn(runtime.node, [CLI, ...args], { cwd: process.cwd(), env: envOn(runtime), stdio: 'inherit' });
  process.on('SIGINT', () => undefined);
  for (const signal of FORWARDED) process.on(signal, () => child.kill(signal));
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
