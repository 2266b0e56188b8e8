// `npm run mutation [-- <stryker arguments>]`: StrykerJS (stryker.config.mjs) on Node 22 (Stryker
// needs 22+; the machine's own Node when it is recent enough, else the pinned release, see
// node-runtime.mjs), at a low CPU priority so a run can share the machine with other work.
// The report: reports/mutation/index.html.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envOn, nodeOfLine, SUITE_LINE } from './node-runtime.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STRYKER = join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
/** Mutation runs are long and CPU-bound; a high niceness keeps an interactive session (and tests) responsive. */
const NICENESS = '15';

function main(args) {
  const runtime = nodeOfLine(SUITE_LINE);
  const command = [runtime.node, STRYKER, 'run', 'stryker.config.mjs', ...args];
  const r = spawnSync('nice', ['-n', NICENESS, ...command], { cwd: ROOT, env: envOn(runtime), stdio: 'inherit' });
  if (r.error) throw new Error(`could not start ${command.join(' ')} under nice: ${r.error.message}`);
  return r.status ?? 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`mutation: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
