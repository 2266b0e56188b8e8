import { join } from 'node:path';
import { TrainerWorkerPool } from '../../layers/runtime/src/trainer-worker-pool';
import { MAX_TRAINER_WORKERS, trainerWorkerCount } from '../../layers/runtime/src/worker-count';
import { TOY_TASKS } from '../training/toy-data';
import { config, specOf } from '../training/trainer-helpers';

const ENTRY = { file: join(__dirname, 'fixtures', 'toy-trainer-worker.ts'), execArgv: ['--import', 'tsx'] };
const MLP = specOf(TOY_TASKS.find((t) => t.taskId === 'easy_mnist')!);

/** A pool of toy workers (test/runtime/fixtures/toy-trainer-worker.ts): each says 'worker threads 1' as it starts. */
function toyPool(size: number) {
  const started: string[] = [];
  const pool = new TrainerWorkerPool({
    size,
    threads: 1,
    dataset: { allowUnverified: false, autoFetch: false },
    onWarning: (m) => started.push(m),
    entry: ENTRY,
  });
  return { pool, started };
}

async function trainOnce(trainer: Awaited<ReturnType<TrainerWorkerPool['create']>>) {
  await trainer.buildModel(config({ batch_size: 32 }));
  return (await trainer.trainEpoch(0.01)).loss;
}

describe('TrainerWorkerPool', () => {
  it('spreads concurrent trainers over its workers, and starts a second worker only when the first is busy', async () => {
    const { pool, started } = toyPool(2);
    try {
      const first = await pool.create(MLP);
      first.dispose();
      const again = await pool.create(MLP);
      expect(pool.loads).toEqual([1]);
      const [a, b] = await Promise.all([pool.create(MLP), pool.create(MLP)]);
      expect(pool.loads).toEqual([2, 1]);
      const losses = await Promise.all([trainOnce(a), trainOnce(b)]);
      expect(losses[0]).toBe(losses[1]);
      expect(started.filter((m) => m === 'worker threads 1')).toHaveLength(2);

      // At its size the pool puts the next trainer (a restored one too) on the least loaded worker.
      const restored = await pool.restore(MLP, await b.saveCheckpoint());
      expect(pool.loads).toEqual([2, 2]);
      [again, a, b, restored].forEach((t) => t.dispose());
      expect(pool.loads).toEqual([0, 0]);
    } finally {
      pool.close();
    }
  }, 60_000);

  it('fails only the calls of the trainers whose worker exited; the next trainer there starts a new process', async () => {
    const { pool, started } = toyPool(2);
    try {
      const [doomed, survivor] = await Promise.all([pool.create(MLP), pool.create(MLP)]);
      expect(pool.loads).toEqual([1, 1]);
      // The toy worker exits on the task id 'crash'; the tie goes to the first worker, doomed's.
      await expect(pool.create({ taskId: 'crash', seed: 1 })).rejects.toThrow(/exited \(code 3\)/);
      await expect(doomed.buildModel(config())).rejects.toThrow(/has exited; its model is gone/);
      expect(Number.isFinite(await trainOnce(survivor))).toBe(true);
      expect(pool.loads).toEqual([0, 1]);

      const next = await pool.create(MLP);
      expect(pool.loads).toEqual([1, 1]);
      expect(Number.isFinite(await trainOnce(next))).toBe(true);
      expect(started.filter((m) => m === 'worker threads 1')).toHaveLength(3);
    } finally {
      pool.close();
    }
  }, 60_000);

  it('refuses a size that is not a whole number of workers', () => {
    expect(() => toyPool(0)).toThrow(/whole number of workers ≥ 1, got 0/);
  });
});

describe('trainerWorkerCount', () => {
  it('is one worker per core unless told, and no more than the caller plays at once', () => {
    expect(trainerWorkerCount({}, {}, 2)).toBe(2);
    expect(trainerWorkerCount({ concurrency: 1 }, {}, 4)).toBe(1);
    expect(trainerWorkerCount({ concurrency: 8 }, {}, 4)).toBe(4);
  });

  it('takes ML_TRAINER_WORKERS (a count or off), and an explicit count over it', () => {
    expect(trainerWorkerCount({}, { ML_TRAINER_WORKERS: 'off' }, 2)).toBe('off');
    expect(trainerWorkerCount({ concurrency: 1 }, { ML_TRAINER_WORKERS: '3' }, 2)).toBe(3);
    expect(trainerWorkerCount({ workers: 1 }, { ML_TRAINER_WORKERS: 'off' }, 2)).toBe(1);
    expect(trainerWorkerCount({ workers: 'off' }, {}, 2)).toBe('off');
    expect(trainerWorkerCount({}, { ML_TRAINER_WORKERS: '' }, 2)).toBe(2);
  });

  it('names what is allowed when the count is bad', () => {
    for (const bad of ['0', 'two', '-1', '1.5', String(MAX_TRAINER_WORKERS + 1)]) {
      expect(() => trainerWorkerCount({}, { ML_TRAINER_WORKERS: bad }, 2)).toThrow(/ML_TRAINER_WORKERS must be a whole number from 1 to 64 or "off"/);
    }
    expect(() => trainerWorkerCount({ workers: 0 }, {}, 2)).toThrow(/from 1 to 64 or "off", got 0/);
  });
});
