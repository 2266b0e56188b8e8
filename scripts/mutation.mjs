// `npm run mutation [-- --area core|protocol] [-- --with-static] [-- <stryker arguments>]`: StrykerJS
// (stryker.config.mjs) on each area in turn, or the one named, on Node 22 (Stryker needs 22+;
// the machine's own Node when it is recent enough, else the pinned release, see node-runtime.mjs),
// at a low CPU priority so a run can share the machine with other work.
// Reports: reports/mutation/<area>/index.html. Other arguments go to Stryker, e.g.
// `npm run mutation -- --area core --mutate layers/core/src/rewards.ts`.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AREAS, MUTATION_ENV } from '../stryker.config.mjs';
import { envOn, nodeOfLine, SUITE_LINE } from './node-runtime.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STRYKER = join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
/** Mutation runs are long and CPU-bound; a high niceness keeps an interactive session (and tests) responsive. */
const NICENESS = '15';

const USAGE = `npm run mutation [-- options]

Mutation testing (StrykerJS) of each area in turn, or of the one named, on Node 22 at nice ${NICENESS}.
Re-runs test only the mutants whose code or covering tests changed (Stryker's incremental mode).

  --area <name>     one area: ${Object.entries(AREAS).map(([name, a]) => `${name} (goal ${a.goal}%)`).join(', ')}
  --with-static     run the mutants reached only while modules load too (slow: every test of the area each)
  --help            this text
  other arguments   go to Stryker, e.g. --mutate <file>[:line:col-line:col], --force (rerun all)

Reports: reports/mutation/<area>/index.html (mutation.json beside it is the machine-readable report).
Exit status: 0 when every area ran, else Stryker's.
`;

/** `--area <name>` picks one area, `--with-static` runs static mutants too; the other arguments are Stryker's. */
function parseArgs(input) {
  const withStatic = input.includes('--with-static');
  const args = input.filter((arg) => arg !== '--with-static');
  const at = args.indexOf('--area');
  if (at === -1) return { areas: Object.keys(AREAS), stryker: args, withStatic };
  const name = args[at + 1];
  if (!(name in AREAS)) throw new Error(`--area ${name ?? '(missing)'}: use one of ${Object.keys(AREAS).join(', ')}`);
  return { areas: [name], stryker: [...args.slice(0, at), ...args.slice(at + 2)], withStatic };
}

function runArea(runtime, area, strykerArgs, withStatic) {
  process.stdout.write(`\n== mutation testing: ${area} (report: reports/mutation/${area}/index.html)\n`);
  const command = [runtime.node, STRYKER, 'run', 'stryker.config.mjs', ...strykerArgs];
  const env = { ...envOn(runtime), [MUTATION_ENV.area]: area, ...(withStatic ? { [MUTATION_ENV.withStatic]: '1' } : {}) };
  const r = spawnSync('nice', ['-n', NICENESS, ...command], { cwd: ROOT, env, stdio: 'inherit' });
  if (r.error) throw new Error(`could not start ${command.join(' ')} under nice: ${r.error.message}`);
  return r.status ?? 1;
}

function main(args) {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { areas, stryker, withStatic } = parseArgs(args);
  const runtime = nodeOfLine(SUITE_LINE);
  let status = 0;
  for (const area of areas) status = runArea(runtime, area, stryker, withStatic) || status;
  return status;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`mutation: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
