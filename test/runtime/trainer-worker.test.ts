import { join } from 'node:path';
import { CheckpointError } from '../../layers/training/src/checkpoint';
import { DatasetError } from '../../layers/datasets/src/dataset-error';
import { intraOpThreadsForTask, pinThreadsForTask, processIntraOpThreads } from '../../layers/runtime/src/task-threads';
import { defaultWorkerEntry, fromWorkerError, TrainerWorker } from '../../layers/runtime/src/worker-trainer-factory';
import { toWorkerError } from '../../layers/runtime/src/trainer-worker';
import { TOY_TASKS } from '../training/toy-data';
import { config, specOf, toyFactory } from '../training/trainer-helpers';

const ENTRY = { file: join(__dirname, 'fixtures', 'toy-trainer-worker.ts'), execArgv: ['--import', 'tsx'] };
const MLP = TOY_TASKS.find((t) => t.taskId === 'easy_mnist')!;

describe('trainer thread counts', () => {
  it('trains the MLP on one thread and the CNNs on the process count', () => {
    expect(intraOpThreadsForTask('easy_mnist', {}, 2)).toBe(1);
    expect(intraOpThreadsForTask('medium_fashion', {}, 2)).toBe(2);
    expect(intraOpThreadsForTask('hard_cifar', { TF_NUM_INTRAOP_THREADS: '4' }, 2)).toBe(4);
    expect(processIntraOpThreads({ TF_NUM_INTRAOP_THREADS: 'x' }, 3)).toBe(3);
    expect(() => intraOpThreadsForTask('nope', {}, 2)).toThrow(/nope/);
  });

  it('pins a one-task process to its task\'s count, unless the environment chose one', () => {
    const env: NodeJS.ProcessEnv = {};
    pinThreadsForTask('easy_mnist', env);
    expect(env.TF_NUM_INTRAOP_THREADS).toBe('1');
    const chosen: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: '3' };
    pinThreadsForTask('easy_mnist', chosen);
    expect(chosen.TF_NUM_INTRAOP_THREADS).toBe('3');
  });
});

describe('TrainerWorker', () => {
  const warnings: string[] = [];
  let worker: TrainerWorker;
  beforeAll(() => {
    worker = new TrainerWorker({ threads: 1, dataset: { allowUnverified: false, autoFetch: false }, onWarning: (m) => warnings.push(m), entry: ENTRY });
  });
  afterAll(() => worker.close());

  it('trains in a child process on its thread count, exactly as in this process', async () => {
    const remote = await worker.create(specOf(MLP));
    const local = await toyFactory(64, 32).factory.create(specOf(MLP));
    const cfg = config({ batch_size: 32, dropout: 0.2 });
    const run = async (t: typeof local) => {
      await t.buildModel(cfg);
      const train = await t.trainEpoch(0.01);
      const val = await t.evaluate();
      await t.keepBestWeights();
      return { train: [train.loss, train.accuracy], val: [val.loss, val.accuracy], checkpoint: await t.saveCheckpoint() };
    };
    const [r, l] = [await run(remote), await run(local)];
    expect(warnings).toContain('worker threads 1');
    expect(r.train).toEqual(l.train);
    expect(r.val).toEqual(l.val);
    expect(r.checkpoint).toBeInstanceOf(Uint8Array);

    // A checkpoint from the worker continues here, and one from here continues in the worker.
    const back = await worker.restore(specOf(MLP), l.checkpoint);
    const here = await toyFactory(64, 32).factory.restore(specOf(MLP), r.checkpoint);
    expect((await back.trainEpoch(0.01)).loss).toBe((await here.trainEpoch(0.01)).loss);
    [remote, local, back, here].forEach((t) => t.dispose());
  }, 60_000);

  it('passes errors back with their types and codes', async () => {
    const trainer = await worker.create(specOf(MLP));
    await expect(trainer.trainEpoch(0.01)).rejects.toThrow(/no model yet/);
    await expect(trainer.trainEpoch(-1)).rejects.toThrow(RangeError);
    await expect(worker.restore(specOf(MLP), new Uint8Array(10))).rejects.toBeInstanceOf(CheckpointError);
    trainer.dispose();
    await expect(trainer.evaluate()).rejects.toThrow(/disposed/);
  }, 30_000);

  it('fails the calls of a worker that died and starts a new one for the next trainer', async () => {
    const before = await worker.create(specOf(MLP));
    await expect(worker.create({ taskId: 'crash', seed: 1 })).rejects.toThrow(/exited \(code 3\)/);
    await expect(before.buildModel(config())).rejects.toThrow(/has exited; its model is gone/);
    const after = await worker.create(specOf(MLP));
    await after.buildModel(config({ batch_size: 32 }));
    expect((await after.evaluate()).accuracy).toBeGreaterThanOrEqual(0);
    after.dispose();
  }, 60_000);
});

describe('worker errors and entry', () => {
  it('keeps the codes callers tell apart', () => {
    const c = fromWorkerError(toWorkerError(new CheckpointError('corrupt', 'bad digest')));
    expect(c).toBeInstanceOf(CheckpointError);
    expect((c as CheckpointError).code).toBe('corrupt');
    const d = fromWorkerError(toWorkerError(new DatasetError('missing_file', 'no mnist', '/x/train')));
    expect(d).toBeInstanceOf(DatasetError);
    expect([(d as DatasetError).code, (d as DatasetError).file]).toEqual(['missing_file', '/x/train']);
    const other = fromWorkerError({ name: 'SomeError', message: 'boom' });
    expect([other.name, other.message]).toEqual(['SomeError', 'boom']);
    expect(toWorkerError('text')).toEqual({ name: 'Error', message: 'text' });
  });

  it('finds the TypeScript entry beside the source, and says where it looked otherwise', () => {
    const entry = defaultWorkerEntry(join(__dirname, '../../layers/runtime/src'));
    expect(entry.file).toMatch(/trainer-worker-main\.ts$/);
    expect(entry.execArgv).toEqual(['--import', 'tsx']);
    expect(() => defaultWorkerEntry('/nonexistent')).toThrow('no trainer worker entry: neither /nonexistent/trainer-worker.js nor /nonexistent/trainer-worker-main.ts exists');
  });
});
