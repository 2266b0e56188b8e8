import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { CliIO } from '../../cli/command';
import { parseServeArgs, startServe } from '../../cli/commands/serve';
import { CHECKPOINTS_PREFIX, checkpointPrefix } from '../../layers/storage/src';
import { startLocalRuntime } from '../../layers/storage/src/local-runtime';
import { http } from '../server/harness';

/**
 * Issue 12, item 9 on the local server: `ml-trainer serve` sweeps orphan checkpoints once at
 * start, in the background, and says what it removed; a referenced checkpoint stays.
 */

function captureIO() {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c) => (err += String(c)));
  const io: CliIO = { stdout: new PassThrough(), stderr, stdin: Readable.from(['']), env: {} };
  return { io, err: () => err };
}

/** Backdates every stored object file of the checkpoint bucket (s3rver reports a file's mtime as LastModified). */
async function backdateCheckpoints(dir: string, when: Date): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (entry.isFile() && path.includes('checkpoints')) await utimes(path, when, when);
  }
}

describe('ml-trainer serve: the start-up checkpoint sweep', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ml-trainer-sweep-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('removes old orphans at start and logs them; keeps the checkpoint an episode points to', async () => {
    const { options } = parseServeArgs(['--state-dir', dir, '--trainer', 'formula', '--port', '0'], {});
    const first = await startServe(options, captureIO().io);
    const created = await http('POST', `${first.urls.rest}/episodes`, { task_id: 'easy_mnist' });
    const id = created.json.episode_id as string;
    expect((await http('POST', `${first.urls.rest}/episodes/${id}/steps`, { tool: 'configure_training', arguments: {} })).status).toBe(200);
    await first.close();

    const runtime = await startLocalRuntime({ dataDir: dir });
    const referenced = (await runtime.episodes.get('local', id))!.checkpoint!.key;
    const orphan = `${checkpointPrefix('local', id)}${'0'.repeat(64)}.killed-step.bin`;
    const ghost = `${checkpointPrefix('local', 'gone-episode')}${'1'.repeat(64)}.gone.bin`;
    await runtime.checkpoints.put(orphan, new Uint8Array([1]));
    await runtime.checkpoints.put(ghost, new Uint8Array([2]));
    await runtime.close();
    await backdateCheckpoints(dir, new Date(Date.now() - 2 * 3_600_000));

    const { io, err } = captureIO();
    const second = await startServe(options, io);
    await second.close(); // waits for the background sweep
    expect(err()).toMatch(/removed 2 orphan checkpoints \(no episode points to them\): /);
    expect(err()).toContain(orphan);
    expect(err()).toContain(ghost);

    const after = await startLocalRuntime({ dataDir: dir });
    try {
      expect((await after.checkpoints.listAll(CHECKPOINTS_PREFIX)).map((o) => o.key)).toEqual([referenced]);
    } finally {
      await after.close();
    }
  });
});
