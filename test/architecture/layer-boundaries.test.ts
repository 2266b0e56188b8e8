import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LAYERS, ENTRIES } = require(join(ROOT, 'layers/layer-graph.cjs')) as { LAYERS: Record<string, string[]>; ENTRIES: Record<string, string[]> };

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs dependency-cruiser with the project's rules over `paths` (relative to cwd); its violations. */
async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  const run = promisify(execFile);
  const args = [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'json', '--no-progress'];
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    // It exits non-zero when it finds violations; the JSON is still on stdout.
    stdout = (error as { stdout?: string }).stdout ?? '';
    if (!stdout.trim().startsWith('{')) throw error;
  }
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

function describeViolations(violations: Violation[]): string {
  return violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).join('\n');
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

describe('layer boundaries (.dependency-cruiser.cjs, layers/layer-graph.cjs)', () => {
  it('production code imports other layers only through their index, along the declared arrows', async () => {
    const violations = await cruise(ROOT, ['layers', 'functions', 'infra', 'cli']);
    expect(describeViolations(violations)).toBe('');
  }, 120_000);

  it('every layer is declared and has an index.ts as its public surface', () => {
    const folders = readdirSync(join(ROOT, 'layers'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(folders).toEqual(Object.keys(LAYERS).sort());
    for (const layer of folders) expect([layer, existsSync(join(ROOT, 'layers', layer, 'src/index.ts'))]).toEqual([layer, true]);
  });

  it("the README's Layout section names every layer and draws the arrows of layers/layer-graph.cjs", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const layout = readme.slice(readme.indexOf('## Layout'));
    for (const layer of Object.keys(LAYERS)) expect([layer, layout.includes(`layers/${layer}`)]).toEqual([layer, true]);
    const drawn = Object.fromEntries(
      [...layout.matchAll(/^(\w+)\s+→\s+(.+)$/gm)].map(([, from, to]) => [from, to.startsWith('(') ? [] : to.split(', ')]),
    );
    expect(drawn).toEqual({ ...LAYERS, ...ENTRIES });
  });

  describe('the rules catch what they forbid (a throw-away tree)', () => {
    let tree: string;
    let violations: Violation[];

    beforeAll(async () => {
      tree = mkdtempSync(join(tmpdir(), 'layer-rules-'));
      writeTree(tree, {
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node' } }),
        'layers/core/src/index.ts': "export * from './tasks';\n",
        // core reaching up into storage, and into Node I/O
        'layers/core/src/tasks.ts': "import { readFileSync } from 'node:fs';\nimport { store } from '../../storage/src';\nexport const tasks = [store, readFileSync];\n",
        'layers/storage/src/index.ts': "export * from './episode-store';\n",
        'layers/storage/src/episode-store.ts': 'export const store = 1;\n',
        // a deep import past storage's index
        'layers/episodes/src/index.ts': "import { store } from '../../storage/src/episode-store';\nexport const episodes = store;\n",
        // production code using the test double
        'layers/testing/src/index.ts': 'export const formulaTrainer = 1;\n',
        'functions/grade/handler.ts': "import { formulaTrainer } from '../../layers/testing/src';\nexport const handler = formulaTrainer;\n",
        // an entry reaching past an index
        'infra/app.ts': "import { store } from '../layers/storage/src/episode-store';\nexport const app = store;\n",
      });
      violations = await cruise(tree, ['layers', 'functions', 'infra']);
    }, 120_000);

    afterAll(() => rmSync(tree, { recursive: true, force: true }));

    const found = (rule: string, from: string, to: string) =>
      violations.some((v) => v.rule.name === rule && v.from === from && v.to.startsWith(to));

    it('a deep import between layers', () => {
      expect(found('deep-import-between-layers', 'layers/episodes/src/index.ts', 'layers/storage/src/episode-store.ts')).toBe(true);
    });

    it('a deep import from an entry point', () => {
      expect(found('deep-import-from-entries', 'infra/app.ts', 'layers/storage/src/episode-store.ts')).toBe(true);
    });

    it('an import against the arrows', () => {
      expect(found('layer-core', 'layers/core/src/tasks.ts', 'layers/storage/src/index.ts')).toBe(true);
    });

    it('Node I/O in the core', () => {
      expect(found('core-is-pure', 'layers/core/src/tasks.ts', 'fs')).toBe(true);
    });

    it('the test double in production code', () => {
      expect(found('entry-functions', 'functions/grade/handler.ts', 'layers/testing/src/index.ts')).toBe(true);
    });

    it('and nothing else', () => {
      expect(violations).toHaveLength(5);
    });
  });
});
