import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { reportCommand } from '../../cli/commands/report';
import { UsageError } from '../../cli/command';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { startLocalRuntime } from '../../layers/storage/src/local-runtime';
import { startServer } from '../server/harness';
import { finalRecord, MAIN_SCRIPT } from './helpers';

async function runReport(argv: string[], stdin = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await reportCommand.run(argv, { stdout, stderr, stdin: Readable.from([stdin]), env: { ...process.env } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('ml-trainer report', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ml-trainer-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--record reads a bare record, `ml-trainer step`\'s episode.json and a REST episode body', async () => {
    const record = await finalRecord(MAIN_SCRIPT);
    const bare = join(dir, 'record.json');
    const saved = join(dir, 'episode.json');
    const rest = join(dir, 'rest.json');
    await writeFile(bare, JSON.stringify(record));
    await writeFile(saved, JSON.stringify({ record, checkpoint_file: 'checkpoint-x.bin', checkpoint_sha256: 'x' }));
    await writeFile(rest, JSON.stringify({ episode_id: 'ep-9', tenant: 'local', version: 11, created_at: '2025-01-01T00:00:00.000Z', updated_at: '2025-01-01T00:01:00.000Z', usage: { steps: 11, epochs_trained: 20, training_seconds: 4 }, record, task: {}, grade: record.grade }));

    const html = join(dir, 'r.html');
    const a = await runReport(['--record', bare, '--out', html]);
    expect(a.code).toBe(0);
    expect(a.stderr).toContain(`wrote the HTML report of the record in ${bare} to ${html}`);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('<!doctype html>');
    expect(page).not.toMatch(/https?:\/\//);

    const b = await runReport(['--record', saved, '--json']);
    expect(JSON.parse(b.stdout)).toMatchObject({ report_version: 1, episode_id: null, usage: null, summary: { epochs_used: 20 } });

    const c = await runReport(['--record', '-', '--json'], await readFile(rest, 'utf8'));
    expect(JSON.parse(c.stdout)).toMatchObject({ episode_id: 'ep-9', version: 11, usage: { steps: 11, epochs_trained: 20, training_seconds: 4 } });
  });

  it('refuses unclear input', async () => {
    await expect(runReport([])).rejects.toThrow(UsageError);
    await expect(runReport(['a', '--record', 'x.json'])).rejects.toThrow(/not both/);
    await expect(runReport(['a', 'b'])).rejects.toThrow(/one episode id/);
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ hello: 1 }));
    await expect(runReport(['--record', join(dir, 'bad.json')])).rejects.toThrow(/does not hold an episode/);
    await expect(runReport(['x', '--state-dir', join(dir, 'missing')])).rejects.toThrow(/no state directory/);
  });

  it('reads an episode from the local store that serve uses, and says what to do while serve holds it', async () => {
    const stateDir = join(dir, 'state');
    const runtime = await startLocalRuntime({ dataDir: stateDir });
    let id: string;
    try {
      const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: formulaTrainerFactory, logger: { warn: () => undefined } });
      id = (await service.createEpisode({ tenant: 'local', taskId: 'easy_mnist' })).episode_id;
      for (const call of MAIN_SCRIPT.slice(0, 4)) await service.step({ tenant: 'local', episodeId: id, call });
      // The store is held (as by a running serve): a clear message naming --server.
      await expect(runReport([id, '--state-dir', stateDir])).rejects.toThrow(/--server/);

      // --server reads it through the REST API of a running server.
      const server = await startServer({ service });
      try {
        const viaServer = await runReport([id, '--server', server.base, '--json']);
        expect(JSON.parse(viaServer.stdout)).toMatchObject({ episode_id: id, status: 'active', summary: { steps_used: 4 } });
        await expect(runReport(['nope', '--server', server.base])).rejects.toThrow(/no episode nope of tenant local/);
      } finally {
        await server.close();
      }
    } finally {
      await runtime.close();
    }
    const out = join(dir, 'store.json');
    const result = await runReport([id, '--state-dir', stateDir, '--json', '--out', out]);
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(out, 'utf8'));
    expect(report).toMatchObject({ episode_id: id, tenant: 'local', version: 4, usage: { steps: 4, epochs_trained: 5 } });
    await expect(runReport([id, '--state-dir', stateDir, '--tenant', 'other'])).rejects.toThrow(/no episode .* of tenant other/);
  });
});
