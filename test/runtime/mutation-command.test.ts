import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'mutation.mjs');
const mutation = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

describe('npm run mutation', () => {
  it('--help explains the wrapper itself: its areas with their goals, its options and where reports go', () => {
    const r = mutation('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--area <name>     one area: core (goal 90%), protocol (goal 80%)');
    expect(r.stdout).toMatch(/--with-static/);
    expect(r.stdout).toContain('reports/mutation/<area>/index.html');
  });

  it('refuses an unknown area, naming the ones there are, before starting Stryker', () => {
    const r = mutation('--area', 'everything');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('mutation: --area everything: use one of core, protocol\n');
  });
});
