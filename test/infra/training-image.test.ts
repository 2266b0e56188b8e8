import { execFileSync, execSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSystem, IgnoreMode } from 'aws-cdk-lib';
import { buildSync } from 'esbuild';
import { HANDLER_ENTRIES, REPO_ROOT, TRAINING_DOCKERFILE, TRAINING_IMAGE_BUILD_ARGS, TRAINING_IMAGE_CONTEXT_EXCLUDES } from '../../infra/paths';

/**
 * There is no Docker engine here, so the image is checked by emulation: the build context is
 * staged the way CDK stages it (same copy function, same exclude list), the build stage's
 * COPY instructions are replayed into a directory standing for WORKDIR, the Dockerfile's own
 * bundle command is run there, and the final stage's COPY/CMD must find what it produced.
 */

interface Instruction {
  keyword: string;
  args: string;
}
interface BuildStage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { globalArgs: Record<string, string | undefined>; stages: BuildStage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  const globalArgs: Record<string, string | undefined> = {};
  const stages: BuildStage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [base = '', as, name] = args.split(/\s+/);
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (upper === 'ARG') {
        const at = args.indexOf('=');
        const [name, value] = at === -1 ? [args, undefined] : [args.slice(0, at), args.slice(at + 1)];
        globalArgs[name] = value === undefined ? undefined : expand(value, globalArgs);
      }
    } else {
      stages[stages.length - 1]!.instructions.push({ keyword: upper, args });
    }
  }
  return { globalArgs, stages };
}

function expand(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? '');
}

function copyArgs(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  const dest = words.pop()!;
  return { from, sources: words, dest };
}

const dockerfileText = fs.readFileSync(path.join(REPO_ROOT, TRAINING_DOCKERFILE), 'utf8');
const dockerfile = parseDockerfile(dockerfileText);
const LAMBDA_TASK_ROOT = '/var/task';

let work: string;
let context: string;
let buildDir: string;
let taskDir: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-trainer-image-'));
  context = path.join(work, 'context');
  buildDir = path.join(work, 'build');
  taskDir = path.join(work, 'task');
  // Stage the build context exactly as CDK's DockerImageAsset does.
  FileSystem.copyDirectory(REPO_ROOT, context, { exclude: [...TRAINING_IMAGE_CONTEXT_EXCLUDES], ignoreMode: IgnoreMode.DOCKER });
}, 60_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const stageNamed = (name: string): BuildStage => dockerfile.stages.find((s) => s.name === name)!;
const finalStage = (): BuildStage => dockerfile.stages[dockerfile.stages.length - 1]!;
const runs = (stage: BuildStage): string[] => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

describe('functions/training/Dockerfile', () => {
  test('every stage on public.ecr.aws/lambda/nodejs:22 pinned by digest: deps, build and the runtime image', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['deps', 'build', undefined]);
    for (const stage of dockerfile.stages) {
      expect(expand(stage.base, dockerfile.globalArgs)).toMatch(/^public\.ecr\.aws\/lambda\/nodejs:22@sha256:[0-9a-f]{64}$/);
    }
    // One digest, said once: the build stages default to the runtime's base image.
    expect(dockerfileText.match(/@sha256:/g)).toHaveLength(1);
  });

  test('the final image takes node_modules from the production-only install and the bundle from the build stage', () => {
    const deps = runs(stageNamed('deps'));
    const install = deps.find((r) => r.includes('npm ci'))!;
    expect(install).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(install).toContain('npm rebuild @tensorflow/tfjs-node');
    // The stage with the dev dependencies only bundles; nothing of its node_modules ships.
    expect(runs(stageNamed('build')).find((r) => r.includes('npm ci'))).not.toContain('--omit=dev');
    const copies = finalStage().instructions.filter((i) => i.keyword === 'COPY').map((i) => copyArgs(i.args));
    const nodeModules = copies.filter((c) => c.sources.some((s) => s.endsWith('node_modules')));
    expect(nodeModules.map((c) => c.from)).toEqual(['deps']);
    expect(copies.filter((c) => c.from === 'build').flatMap((c) => c.sources)).toEqual(['/build/dist/functions/training/']);
  });

  test('TFJS_NODE_CDN_STORAGE is a build ARG without default, declared before the install and unset when empty', () => {
    const deps = stageNamed('deps').instructions;
    const argAt = deps.findIndex((i) => i.keyword === 'ARG' && i.args === 'TFJS_NODE_CDN_STORAGE');
    const installAt = deps.findIndex((i) => i.keyword === 'RUN' && i.args.includes('npm ci'));
    expect(argAt).toBeGreaterThanOrEqual(0);
    expect(installAt).toBeGreaterThan(argAt);
    expect(deps[installAt]!.args).toMatch(/if \[ -z "\$\{TFJS_NODE_CDN_STORAGE\}" \]; then unset TFJS_NODE_CDN_STORAGE; fi/);
  });

  test('an air-gapped build: every build argument CDK may pass is declared, and each mirror reaches its tool before the install', () => {
    const declared = new Set([
      ...Object.keys(dockerfile.globalArgs),
      ...dockerfile.stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0]!)),
    ]);
    for (const name of [...TRAINING_IMAGE_BUILD_ARGS, 'TFJS_NODE_CDN_STORAGE']) expect({ name, declared: declared.has(name) }).toEqual({ name, declared: true });
    const install = runs(stageNamed('deps')).find((r) => r.includes('npm ci'))!;
    const before = (setting: string) => install.indexOf(setting) >= 0 && install.indexOf(setting) < install.indexOf('npm ci');
    // npm's registry, node-pre-gyp's binding host (or a build from source), node-gyp's headers.
    for (const setting of ['npm_config_registry="${NPM_REGISTRY}"', 'npm_config_tfjs_binding_binary_host_mirror="${TFJS_BINDING_HOST_MIRROR}"', 'npm_config_build_from_source=true', 'npm_config_nodedir="${NODEJS_HEADERS_DIR}"']) {
      expect({ setting, before: before(setting) }).toEqual({ setting, before: true });
    }
    // The toolchain comes from dnf only when the build base image lacks it.
    expect(runs(stageNamed('deps'))[0]).toMatch(/^\(command -v python3 .*\) >\/dev\/null\s+\|\| \(dnf install -y/);
    // node-pre-gyp reads <module_name>_binary_host_mirror: the name must be tfjs-node's module name.
    const tfjsPackage = JSON.parse(fs.readFileSync(require.resolve('@tensorflow/tfjs-node/package.json'), 'utf8')) as { binary: { module_name: string } };
    expect(tfjsPackage.binary.module_name).toBe('tfjs_binding');
  });

  test('infra/README.md says how to update the digest and documents every build argument', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'infra/README.md'), 'utf8');
    expect(readme).toContain('docker buildx imagetools inspect public.ecr.aws/lambda/nodejs:22');
    for (const name of [...TRAINING_IMAGE_BUILD_ARGS, 'TFJS_NODE_CDN_STORAGE']) expect({ name, documented: readme.includes(`| \`${name}\` |`) }).toEqual({ name, documented: true });
  });

  test('every COPY source of the build stages is in the staged context', () => {
    for (const copy of dockerfile.stages.slice(0, -1).flatMap((s) => s.instructions).filter((i) => i.keyword === 'COPY')) {
      const { from, sources } = copyArgs(copy.args);
      expect(from).toBeUndefined();
      for (const source of sources) expect({ source, staged: fs.existsSync(path.join(context, source)) }).toEqual({ source, staged: true });
    }
    // And nothing heavy or unrelated came along.
    for (const absent of ['node_modules', 'dist', 'test', 'cdk.out', '.git', 'cli']) expect(fs.existsSync(path.join(context, absent))).toBe(false);
  });

  test("the build stage's bundle command, run on the staged context, produces what the final stage copies and CMD names", () => {
    const build = stageNamed('build');
    const workdir = build.instructions.find((i) => i.keyword === 'WORKDIR')!.args;
    const inBuild = (p: string) => path.join(buildDir, path.posix.relative(workdir, path.posix.resolve(workdir, p)));
    // Replay the COPY instructions into the directory standing for WORKDIR.
    for (const copy of build.instructions.filter((i) => i.keyword === 'COPY')) {
      const { sources, dest } = copyArgs(copy.args);
      for (const source of sources) {
        // Docker semantics: a directory's contents go into dest; a file goes into dest/ (or to dest).
        const from = path.join(context, source);
        const intoDir = fs.statSync(from).isDirectory() || dest.endsWith('/') || sources.length > 1;
        const target = fs.statSync(from).isDirectory() ? inBuild(dest) : intoDir ? path.join(inBuild(dest), path.basename(source)) : inBuild(dest);
        fs.mkdirSync(fs.statSync(from).isDirectory() ? target : path.dirname(target), { recursive: true });
        fs.cpSync(from, target, { recursive: true });
      }
    }
    // `npm ci` leaves node_modules in WORKDIR; the repository's stands in for it.
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(buildDir, 'node_modules'), 'dir');
    const bundleRun = build.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('bundle-functions.mjs'))!;
    const bundleCommand = bundleRun.args.trim();
    expect(bundleCommand).toMatch(/^node infra\/bundle-functions\.mjs training\b/);
    execSync(bundleCommand, { cwd: buildDir, stdio: 'pipe' });

    // Final stage: COPY --from sources exist; replay them into LAMBDA_TASK_ROOT.
    const final = finalStage();
    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map((i) => copyArgs(i.args));
    expect(copies.length).toBeGreaterThanOrEqual(2);
    const vars = { LAMBDA_TASK_ROOT };
    for (const { from, sources, dest } of copies) {
      expect(['deps', 'build']).toContain(from);
      for (const source of sources) {
        expect(source.startsWith(`${workdir}/`)).toBe(true);
        const produced = inBuild(source);
        expect({ source, exists: fs.existsSync(produced) }).toEqual({ source, exists: true });
        if (source.endsWith('node_modules')) continue; // the installed dependencies: not copied here
        const target = path.join(taskDir, path.posix.relative(LAMBDA_TASK_ROOT, expand(dest, vars)));
        fs.mkdirSync(target, { recursive: true });
        fs.cpSync(produced, target, { recursive: true });
      }
    }
    expect(copies.some(({ sources, dest }) => sources.some((s) => s.endsWith('/node_modules')) && expand(dest, vars) === `${LAMBDA_TASK_ROOT}/node_modules`)).toBe(true);

    const cmd = final.instructions.filter((i) => i.keyword === 'CMD').pop()!;
    const [handlerSpec] = JSON.parse(cmd.args) as string[];
    expect(handlerSpec).toMatch(/^[\w/.-]+\.handler$/);
    const file = path.join(taskDir, `${handlerSpec!.replace(/\.handler$/, '')}.js`);
    expect(fs.existsSync(file)).toBe(true);
    // esbuild's CommonJS output exports `handler` through its export map.
    expect(fs.readFileSync(file, 'utf8')).toMatch(/\bhandler:\s*\(\)\s*=>/);
    // The trainer worker's entry sits beside the handler, where the runtime looks for it.
    expect(fs.existsSync(path.join(path.dirname(file), 'trainer-worker.js'))).toBe(true);
    expect(fs.existsSync(`${file}.map`)).toBe(true);
  }, 60_000);

  test('the training entry exports `handler` and needs no package the image prunes (devDependencies)', () => {
    const result = buildSync({
      absWorkingDir: REPO_ROOT,
      entryPoints: [HANDLER_ENTRIES.training],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      write: false,
      outdir: path.join(work, 'analysis'),
      metafile: true,
      logLevel: 'silent',
    });
    const outputs = Object.values(result.metafile!.outputs).filter((o) => o.entryPoint);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.exports).toContain('handler');
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    const externals = outputs[0]!.imports.filter((i) => i.external).map((i) => i.path);
    const missing = externals.filter((spec) => !builtins.has(spec) && !(packageOf(spec) in pkg.dependencies));
    expect(missing).toEqual([]);
  });
});

describe('infra/bundle-functions.mjs', () => {
  test('lists the same handler entries as the CDK app', () => {
    const listed = JSON.parse(execFileSync(process.execPath, [path.join(REPO_ROOT, 'infra/bundle-functions.mjs'), '--list'], { encoding: 'utf8' }));
    expect(listed).toEqual(HANDLER_ENTRIES);
  });

  test('every handler entry exists', () => {
    for (const entry of Object.values(HANDLER_ENTRIES)) expect({ entry, exists: fs.existsSync(path.join(REPO_ROOT, entry)) }).toEqual({ entry, exists: true });
  });
});
