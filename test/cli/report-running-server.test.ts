import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoveryPath } from '../../cli/server-discovery';
import { startLocalRuntime } from '../../layers/storage/src/local-runtime';
import { runCli } from './cli-harness';
import { closedUrl } from './closed-url';
import { startServe } from './running-serve';

/** Issue 15, item 1: `ml-trainer report <id>` as the README shows it works while `ml-trainer serve` runs on the same state directory. */
describe('ml-trainer report finds the server running on its state directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ml-trainer-report-discovery-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function createEpisode(url: string): Promise<string> {
    const response = await fetch(`${url}/v1/episodes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"task_id":"easy_mnist"}' });
    return ((await response.json()) as { episode_id: string }).episode_id;
  }

  it('reads from the running server, then from the folder once the server has stopped', async () => {
    const stateDir = join(dir, 'state');
    const serve = await startServe(['--port', '0', '--trainer', 'formula', '--state-dir', stateDir]);
    let episodeId: string;
    try {
      expect(JSON.parse(await readFile(discoveryPath(stateDir), 'utf8'))).toMatchObject({ url: serve.url, pid: process.pid, version: expect.any(String) });
      episodeId = await createEpisode(serve.url);
      const out = join(dir, 'while-serving.html');
      const r = await runCli(['report', episodeId, '--state-dir', stateDir, '--out', out]);
      expect(r.stderr).toContain(`reading from the running server at ${serve.url}\n`);
      expect(r.code).toBe(0);
      expect(await readFile(out, 'utf8')).toContain(episodeId);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    await expect(readFile(discoveryPath(stateDir))).rejects.toMatchObject({ code: 'ENOENT' });
    const r = await runCli(['report', episodeId, '--state-dir', stateDir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('running server');
    expect(JSON.parse(r.stdout)).toMatchObject({ episode_id: episodeId });
  });

  it('ignores a stale or damaged discovery file and reads the folder itself', async () => {
    const stateDir = join(dir, 'stale');
    const serve = await startServe(['--port', '0', '--trainer', 'formula', '--state-dir', stateDir]);
    const episodeId = await createEpisode(serve.url);
    expect(await serve.stop()).toBe(0);
    const dead = { schema_version: 1, url: await closedUrl(), rest: 'http://127.0.0.1:1/v1', mcp: 'http://127.0.0.1:1/mcp/v1', version: '0.1.0', started_at: new Date().toISOString() };
    for (const content of [
      { ...dead, pid: deadPid() }, // a process that is gone
      { ...dead, pid: process.pid }, // a live process, but nothing answers at its URL
      'not json',
    ]) {
      await writeFile(discoveryPath(stateDir), typeof content === 'string' ? content : JSON.stringify(content));
      const r = await runCli(['report', episodeId, '--state-dir', stateDir, '--json']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('running server') });
    }
  });

  it('a folder held by a process that serves nothing: says so and what to do, without a made-up URL', async () => {
    const stateDir = join(dir, 'held');
    const holder = await startLocalRuntime({ dataDir: stateDir });
    try {
      const none = await runCli(['report', 'some-episode', '--state-dir', stateDir]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('in use by another local runtime');
      expect(none.stderr).toContain('No server records its address there');
      expect(none.stderr).not.toContain(':8000');

      const url = await closedUrl();
      await writeFile(discoveryPath(stateDir), JSON.stringify({ schema_version: 1, url, rest: `${url}/v1`, mcp: `${url}/mcp/v1`, pid: process.pid, version: '0.1.0', started_at: new Date().toISOString() }));
      const silent = await runCli(['report', 'some-episode', '--state-dir', stateDir]);
      expect(silent.code).toBe(2);
      expect(silent.stderr).toContain(`Its server (process ${process.pid}) does not answer at ${url}`);
    } finally {
      await holder.close();
    }
  });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}
