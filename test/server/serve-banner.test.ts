import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runServe } from '../../cli/commands/serve';
import type { CliIO } from '../../cli/command';

/** Issue 12 item 5: the startup banner names the data folder the tfjs trainer reads and which datasets are in it. */
async function bannerOf(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c) => (out += String(c)));
  const io: CliIO = { stdout, stderr: new PassThrough(), stdin: Readable.from(['']), env };
  let stop!: () => void;
  const running = runServe(['--port', '0', ...args], io, new Promise<void>((resolve) => (stop = resolve)));
  const started = Date.now();
  while (!out.includes('\n') && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 20));
  stop();
  expect(await running).toBe(0);
  return out;
}

describe('ml-trainer serve: the banner names the data folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlt-serve-banner-'));
    // The training split's files are there (presence, not verification: loading verifies).
    mkdirSync(join(dir, 'data', 'mnist'), { recursive: true });
    for (const name of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']) writeFileSync(join(dir, 'data', 'mnist', name), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('as text: the folder, each dataset present or missing, and how to get the missing ones', async () => {
    const out = await bannerOf(['--state-dir', join(dir, 'state-text'), '--data-dir', join(dir, 'data')], {});
    // Wrapped within 80 columns, under its label.
    expect(out.replace(/\n {12}/g, ' ')).toContain(`  Data      ${join(dir, 'data')} (mnist present, fashion_mnist missing, cifar10 missing; a missing one is downloaded on first use, or run: ml-trainer datasets fetch --dataset all)`);
    expect(out.split('\n').filter((line) => line.length > 80)).toEqual([]);
  }, 60_000);

  it('as JSON, from ML_TRAINER_DATA_DIR; not with the formula trainer, which reads no data', async () => {
    const json = JSON.parse((await bannerOf(['--state-dir', join(dir, 'state-json'), '--json'], { ML_TRAINER_DATA_DIR: join(dir, 'data') })).split('\n')[0]);
    expect(json).toMatchObject({
      data_dir: join(dir, 'data'),
      datasets: [
        { dataset: 'mnist', present: true },
        { dataset: 'fashion_mnist', present: false },
        { dataset: 'cifar10', present: false },
      ],
    });
    const formula = JSON.parse((await bannerOf(['--state-dir', join(dir, 'state-formula'), '--json', '--trainer', 'formula'], {})).split('\n')[0]);
    expect(formula).not.toHaveProperty('data_dir');
  }, 60_000);
});
