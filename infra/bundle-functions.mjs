#!/usr/bin/env node
// Bundles the Lambda handlers with esbuild: <outdir>/<name>/index.js (+ .map), CommonJS for Node.js 22.
//
//   node infra/bundle-functions.mjs                      # every function into dist/functions/
//   node infra/bundle-functions.mjs training             # one function
//   node infra/bundle-functions.mjs training --outdir <dir>
//   node infra/bundle-functions.mjs --list               # the entries as JSON
//
// The training image runs exactly `node infra/bundle-functions.mjs training --outdir dist/functions`
// inside its build stage (functions/training/Dockerfile). Its npm packages stay external: the image
// installs the production dependencies (tfjs-node is a native addon and cannot be bundled).
// The zip functions are deployed from NodejsFunction's own esbuild run (infra/constructs/service-function.ts,
// same options: everything bundled, Node.js 22, CommonJS); this script builds them too, to inspect or
// measure the bundles locally. Paths are relative to the working directory (the repository root).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** name → entry file; keep in step with HANDLER_ENTRIES in infra/paths.ts (a test compares them). */
export const FUNCTIONS = {
  api: 'functions/api/handler.ts',
  grade: 'functions/grade/handler.ts',
  findEpisodes: 'functions/batch/find-episodes.ts',
  gradeBatch: 'functions/batch/grade-batch.ts',
  writeReport: 'functions/batch/write-report.ts',
  training: 'functions/training/handler.ts',
};

/** Functions whose npm packages are installed next to the bundle rather than bundled. */
const EXTERNAL_PACKAGES = new Set(['training']);

/**
 * Functions that train: they also get trainer-worker.js beside index.js, the entry of the
 * worker processes that train tasks on another TensorFlow thread count (layers/runtime).
 */
const TRAINER_WORKER = { training: 'layers/runtime/src/trainer-worker-main.ts' };

export const DEFAULT_OUTDIR = 'dist/functions';

/** Builds one function; returns the written bundle's path. */
export async function bundleFunction(name, { rootDir = process.cwd(), outdir = DEFAULT_OUTDIR } = {}) {
  const entry = FUNCTIONS[name];
  if (!entry) throw new Error(`unknown function ${JSON.stringify(name)}; known: ${Object.keys(FUNCTIONS).join(', ')}`);
  const entryPath = resolve(rootDir, entry);
  if (!existsSync(entryPath)) throw new Error(`${name}: entry ${entry} does not exist under ${rootDir}`);
  const outfile = resolve(rootDir, outdir, name, 'index.js');
  const worker = TRAINER_WORKER[name];
  await build({
    absWorkingDir: resolve(rootDir),
    entryPoints: { index: entryPath, ...(worker ? { 'trainer-worker': resolve(rootDir, worker) } : {}) },
    outdir: resolve(rootDir, outdir, name),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    ...(EXTERNAL_PACKAGES.has(name) ? { packages: 'external' } : {}),
    sourcemap: true,
    minify: true,
    keepNames: true,
    logLevel: 'warning',
  });
  return outfile;
}

async function main(argv) {
  const args = [...argv];
  if (args.includes('--list')) {
    process.stdout.write(`${JSON.stringify(FUNCTIONS)}\n`);
    return;
  }
  let outdir = DEFAULT_OUTDIR;
  const at = args.indexOf('--outdir');
  if (at !== -1) {
    outdir = args[at + 1];
    if (!outdir) throw new Error('--outdir needs a directory');
    args.splice(at, 2);
  }
  const names = args.length > 0 ? args : Object.keys(FUNCTIONS);
  for (const name of names) {
    const outfile = await bundleFunction(name, { outdir });
    process.stdout.write(`${name}: ${join(outdir, name, 'index.js')} (${outfile})\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`bundle-functions: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
