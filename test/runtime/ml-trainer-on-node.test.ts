import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * `npm start`'s launcher (scripts/ml-trainer-on-node.mjs) between npm and the server: a
 * terminal's Ctrl-C (SIGINT to the whole foreground group) must reach the server once, so it
 * stops cleanly; and when npm goes away on a SIGTERM (npm passes it to `sh -c` only), the
 * server must not be left running. The server's clean stop removes its server.json.
 */
const ROOT = join(__dirname, '..', '..');
const LAUNCHER = join(ROOT, 'scripts', 'ml-trainer-on-node.mjs');

interface Launched {
  child: ChildProcess;
  stateDir: string;
  stderr: () => string;
  exited: Promise<number | string>;
}

function launch(shellAround: boolean): Launched {
  const stateDir = mkdtempSync(join(tmpdir(), 'launcher-'));
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(LAUNCHER)} serve --port 0 --trainer formula --state-dir ${JSON.stringify(stateDir)}`;
  // `; true` keeps the shell from exec-ing node, as npm's `sh -c` stays between npm and the launcher.
  const child = shellAround
    ? spawn('sh', ['-c', `${command}; true`], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath, [LAUNCHER, 'serve', '--port', '0', '--trainer', 'formula', '--state-dir', stateDir], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += String(c)));
  const exited = new Promise<number | string>((done) => child.on('exit', (code, signal) => done(code ?? signal ?? 'unknown')));
  return { child, stateDir, stderr: () => stderr, exited };
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const serverJson = (l: Launched) => join(l.stateDir, 'server.json');

describe('npm start\'s launcher', () => {
  const launched: Launched[] = [];
  /** A launcher whose server listens (its server.json written), cleaned up after the suite. */
  async function listening(shellAround: boolean): Promise<Launched> {
    const l = launch(shellAround);
    launched.push(l);
    await until(() => existsSync(serverJson(l)), 'the server to listen');
    return l;
  }
  afterAll(() => {
    for (const l of launched) {
      try {
        process.kill(-l.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(l.stateDir, { recursive: true, force: true });
    }
  });

  it("a terminal's Ctrl-C (SIGINT to the group) stops the server once, cleanly, and the launcher exits 0", async () => {
    const l = await listening(false);
    process.kill(-l.child.pid!, 'SIGINT');
    expect(await l.exited).toBe(0);
    expect(l.stderr().match(/stopping/g)).toHaveLength(1);
    expect(existsSync(serverJson(l))).toBe(false);
  });

  it('a SIGINT sent to the launcher alone (a process manager, a script) reaches the server', async () => {
    const l = await listening(false);
    process.kill(l.child.pid!, 'SIGINT');
    expect(await l.exited).toBe(0);
    expect(existsSync(serverJson(l))).toBe(false);
  });

  it('when the process above it dies (npm and sh on a SIGTERM), the server is stopped, not left running', async () => {
    const l = await listening(true);
    process.kill(l.child.pid!, 'SIGKILL');
    await until(() => !existsSync(serverJson(l)), 'the server to stop cleanly (server.json removed)');
    await until(() => l.stderr().includes('stopping'), 'the server to say it stops');
  });
});
