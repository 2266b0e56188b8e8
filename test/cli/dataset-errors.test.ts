import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli-harness';

describe('a command that trains on a dataset it cannot read', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ml-trainer-bad-data-'));
    mkdirSync(join(dataDir, 'mnist'));
    // Present (so nothing is downloaded) but not MNIST.
    for (const name of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      writeFileSync(join(dataDir, 'mnist', name), 'garbage\n');
    }
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('exits 1 with what is wrong and how to get good files, not a stack trace', async () => {
    const actions = join(dataDir, 'actions.json');
    writeFileSync(actions, JSON.stringify([{ tool: 'configure_training', arguments: {} }, { tool: 'run_epochs', arguments: { num_epochs: 1 } }]));
    const r = await runCli(['run', '--task', 'easy_mnist', '--actions', actions, '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ml-trainer run: .*train-images-idx3-ubyte\.gz: expected IDX images magic number/);
    expect(r.stderr).toMatch(/ml-trainer datasets fetch --dataset mnist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
