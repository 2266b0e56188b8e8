import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const CORE = join(__dirname, '../../layers/core/src');
// The core decides what an episode means; it may import only itself and zod (validation and JSON Schema).
const ALLOWED_PACKAGES = new Set(['zod']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importedModules(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...source.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ];
  return specifiers.map((m) => m[1]);
}

describe('the pure core', () => {
  const files = sourceFiles(CORE);

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [relative(CORE, f), f]))('%s imports nothing from AWS, tfjs or Node I/O', (_name, file) => {
    const foreign = importedModules(readFileSync(file, 'utf8')).filter(
      (m) => !m.startsWith('.') && !ALLOWED_PACKAGES.has(m),
    );
    expect(foreign).toEqual([]);
  });

  it('uses no Node globals for I/O or time', () => {
    const offenders = files.filter((f) => /\b(process\.|Buffer\.|Date\.now|performance\.now|setTimeout)\b/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(CORE, f))).toEqual([]);
  });

  it('the import scanner catches a forbidden import', () => {
    expect(importedModules("import * as tf from '@tensorflow/tfjs-node';\nconst fs = require('node:fs');")).toEqual([
      '@tensorflow/tfjs-node',
      'node:fs',
    ]);
  });
});
