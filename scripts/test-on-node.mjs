// `npm test [-- <jest arguments>]`: the typecheck and the jest suite on Node 22, the Lambda
// runtime's line (the machine's own Node when it is 22 or newer, else the pinned release from
// the npm registry, see node-runtime.mjs), and, on a full run, a smoke on Node 24 first: real
// training, checkpoint, restore in a fresh process, bit-identical (tfjs-node needs our shim there).
// The smoke runs before the suite so the suite's "tests: N passed, N failed" stays the last line.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envOn, nodeOfLine, SMOKE_LINE, SUITE_LINE } from './node-runtime.mjs';
import { tensorFlowNoticeFilter } from './tensorflow-load-notice.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const JEST = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
/** Train, checkpoint, resume (in-process and in a fresh process), through the CLI and the trainer; and the shim's own test. */
const NODE24_SMOKE = ['test/training/reproducibility.test.ts', 'test/cli/run.test.ts', 'test/runtime/node-compat.test.ts'];

/** Runs a step; one that loads TensorFlow has its stderr go through the notice filter off a terminal (a CI log). */
async function step(title, command, args, env, { loadsTensorFlow = false } = {}) {
  process.stdout.write(`\n== ${title}\n`);
  const filtered = loadsTensorFlow && !process.stderr.isTTY;
  if (filtered) process.stdout.write(`(TensorFlow's 2-line load notice, written by every process that loads it, is left out: scripts/tensorflow-load-notice.mjs)\n`);
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['inherit', 'inherit', filtered ? 'pipe' : 'inherit'] });
  const filter = filtered ? tensorFlowNoticeFilter() : null;
  const drained = filter ? new Promise((done) => child.stderr.pipe(filter).on('end', done).pipe(process.stderr, { end: false })) : null;
  const status = await new Promise((done, fail) => child.on('error', fail).on('close', (code) => done(code ?? 1)));
  await drained;
  return status;
}

async function main(args) {
  const smokeOnly = args[0] === '--node24-smoke';
  const suiteNode = smokeOnly ? null : nodeOfLine(SUITE_LINE);
  const smokeNode = smokeOnly || args.length === 0 ? nodeOfLine(SMOKE_LINE) : null;
  if (suiteNode) {
    const typecheck = await step(`typecheck on Node ${suiteNode.version}`, 'npm', ['run', '--silent', 'typecheck'], envOn(suiteNode));
    if (typecheck !== 0) return typecheck;
  }
  if (smokeNode) {
    const smoke = await step(`smoke on Node ${smokeNode.version}: train, checkpoint, resume`, smokeNode.node, [JEST, ...NODE24_SMOKE], envOn(smokeNode), { loadsTensorFlow: true });
    if (smoke !== 0 || smokeOnly) return smoke;
  } else {
    process.stdout.write(`\n(the Node 24 smoke runs on a full \`npm test\` or with \`npm run test:node24\`; skipped with jest arguments)\n`);
  }
  return await step(`jest on Node ${suiteNode.version}`, suiteNode.node, [JEST, ...args], envOn(suiteNode), { loadsTensorFlow: true });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`test: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
