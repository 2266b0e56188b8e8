import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NODE_RUNTIME } from '../../infra/constructs/service-function';

const ROOT = join(__dirname, '..', '..');

interface Pin {
  version: string;
  integrity: string;
}

/** scripts/node-runtime.mjs is an ES module and jest runs CommonJS here: evaluate `expression` over it in a child Node. */
function fromRuntimeScript<T>(expression: string): T {
  const url = pathToFileURL(join(ROOT, 'scripts', 'node-runtime.mjs')).href;
  const source = `import * as m from ${JSON.stringify(url)}; process.stdout.write(JSON.stringify(${expression}));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`node-runtime.mjs: ${child.stderr}`);
  return JSON.parse(child.stdout) as T;
}

function majorOf(version: string): number {
  return Number(/^v?(\d+)\./.exec(version)![1]);
}

describe('the Node lines the tests run on', () => {
  const { suite, smoke, pinned } = fromRuntimeScript<{ suite: number; smoke: number; pinned: Record<string, Pin> }>(
    '{ suite: m.SUITE_LINE, smoke: m.SMOKE_LINE, pinned: m.PINNED_NODE }',
  );

  it("runs the suite on the Lambdas' line: the zip functions' runtime and the training image's base", () => {
    expect(NODE_RUNTIME.name).toBe(`nodejs${suite}.x`);
    const dockerfile = readFileSync(join(ROOT, 'functions', 'training', 'Dockerfile'), 'utf8');
    expect(/^ARG BASE_IMAGE=public\.ecr\.aws\/lambda\/nodejs:(\d+)/m.exec(dockerfile)?.[1]).toBe(String(suite));
  });

  it('pins exactly the lines package.json engines names, each with a release of that line and its sha512', () => {
    const engines: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node;
    const engineLines = engines.split('||').map((range) => Number(/^\s*\^(\d+)\s*$/.exec(range)?.[1]));
    expect(engineLines.sort()).toEqual([suite, smoke].sort());
    expect(Object.keys(pinned).map(Number).sort()).toEqual([suite, smoke].sort());
    for (const [line, pin] of Object.entries(pinned)) {
      expect(majorOf(pin.version)).toBe(Number(line));
      expect(pin.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
  });

  it("uses the machine's own Node, downloading nothing, when it is of the line or newer", () => {
    const runtime = fromRuntimeScript<{ node: string; version: string; headers: string | null }>(`m.nodeOfLine(${majorOf(process.version)})`);
    expect(runtime).toEqual({ node: process.execPath, version: process.version, headers: null });
  });
});
