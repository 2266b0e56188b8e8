import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** The repository root: the first folder above `from` that holds bin/ml-trainer.js. */
export function findRepoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'bin', 'ml-trainer.js'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`bin/ml-trainer.js not found above ${from}`);
    dir = parent;
  }
}

function listFiles(root: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(suffix)) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

/** A fingerprint of the trainer's sources (the tfjs trainer changes while others optimise it). */
export function trainerSourceFingerprint(repoRoot: string): { files: number; sha256: string; newest_mtime: string | null } | null {
  const root = join(repoRoot, 'layers', 'training', 'src');
  if (!existsSync(root)) return null;
  const files = listFiles(root, '.ts');
  const hash = createHash('sha256');
  let newest = 0;
  for (const f of files) {
    hash.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
    newest = Math.max(newest, statSync(f).mtimeMs);
  }
  return { files: files.length, sha256: hash.digest('hex'), newest_mtime: newest > 0 ? new Date(newest).toISOString() : null };
}

/** Sources (cli/, layers/; not the bench's own) newer than dist/cli.js, which the `ml-trainer` child processes run; the trainer's first. */
export function staleDistSources(repoRoot: string): string[] {
  const dist = join(repoRoot, 'dist', 'cli.js');
  if (!existsSync(dist)) return ['dist/cli.js is missing'];
  const built = statSync(dist).mtimeMs;
  // The bench's own files and the layers' bench/ scripts are not part of what `ml-trainer run` runs.
  const own = (f: string) => f.startsWith(join('layers', 'bench')) || f === join('cli', 'commands', 'bench.ts') || f.split(sep).includes('bench');
  const training = (f: string) => f.startsWith(join('layers', 'training'));
  return [...listFiles(join(repoRoot, 'cli'), '.ts'), ...listFiles(join(repoRoot, 'layers'), '.ts')]
    .filter((f) => statSync(f).mtimeMs > built)
    .map((f) => relative(repoRoot, f))
    .filter((f) => !own(f))
    .sort((a, b) => Number(training(b)) - Number(training(a)) || a.localeCompare(b));
}

/** How many of this process's threads TensorFlow named tf_Compute (its inter-op pool); null off Linux. */
export function countThreadsNamed(name: string): number | null {
  try {
    return readdirSync('/proc/self/task').filter((t) => {
      try {
        return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    }).length;
  } catch {
    return null;
  }
}
