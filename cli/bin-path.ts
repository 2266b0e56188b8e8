import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The ml-trainer executable of this installation (found from the running module, bundled or not). */
export function binPath(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'bin', 'ml-trainer.js');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`bin/ml-trainer.js not found above ${__dirname}`);
    dir = parent;
  }
}
