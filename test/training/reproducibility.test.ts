import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Trainer } from '../../layers/core/src/trainer-port';
import type { OptimizerKind, TrainingConfig } from '../../layers/core/src/training-config';
import { TOY_TASKS } from './toy-data';
import { config, specOf, toyFactory, ToyTask } from './trainer-helpers';

const K = 2;
const M = 2;

/** Augmentation above 0.5 (CIFAR colour jitter included) and dropout on: every random stream in use. */
function cfg(optimizer: OptimizerKind): TrainingConfig {
  return config({ optimizer, learning_rate: 0.003, batch_size: 32, weight_decay: 0.01, dropout: 0.3, augmentation: true, augmentation_strength: 0.8 });
}

interface EpochRecord {
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
}

/** What the episode does per epoch: train, evaluate, keep the weights when accuracy improves. */
async function runEpochs(trainer: Trainer, lr: number, epochs: number, best: { acc: number }): Promise<EpochRecord[]> {
  const records: EpochRecord[] = [];
  for (let e = 0; e < epochs; e++) {
    const t = await trainer.trainEpoch(lr);
    const v = await trainer.evaluate();
    if (v.accuracy > best.acc) {
      best.acc = v.accuracy;
      await trainer.keepBestWeights();
    }
    records.push({ trainLoss: t.loss, trainAccuracy: t.accuracy, valLoss: v.loss, valAccuracy: v.accuracy });
  }
  return records;
}

async function uninterrupted(task: ToyTask, c: TrainingConfig) {
  const trainer = await toyFactory(64, 32).factory.create(specOf(task));
  await trainer.buildModel(c);
  const records = await runEpochs(trainer, c.learning_rate, K + M, { acc: -1 });
  const checkpoint = await trainer.saveCheckpoint();
  trainer.dispose();
  return { records, checkpoint };
}

describe('checkpoint and restore continue bit for bit', () => {
  const cases = (['sgd', 'adam', 'adamw'] as const).flatMap((opt) => TOY_TASKS.map((t) => [opt, t.model, t] as const));

  it.each(cases)('%s on %s: k epochs, checkpoint, restore in a new trainer, m epochs = k + m epochs', async (optimizer, _model, task) => {
    const c = cfg(optimizer);
    const reference = await uninterrupted(task, c);

    const first = await toyFactory(64, 32).factory.create(specOf(task));
    await first.buildModel(c);
    const best = { acc: -1 };
    const before = await runEpochs(first, c.learning_rate, K, best);
    const saved = await first.saveCheckpoint();
    first.dispose();

    const second = await toyFactory(64, 32).factory.restore(specOf(task), saved);
    const after = await runEpochs(second, c.learning_rate, M, best);
    const final = await second.saveCheckpoint();
    second.dispose();

    expect([...before, ...after]).toEqual(reference.records);
    // Weights, BN statistics, optimizer slots and step count, best weights, RNG states: all equal.
    expect(Buffer.from(final).equals(Buffer.from(reference.checkpoint))).toBe(true);
  });

  it('also in a fresh process (a new TensorFlow runtime)', () => {
    const task = TOY_TASKS[2];
    const c = cfg('adamw');
    return (async () => {
      const reference = await uninterrupted(task, c);
      const first = await toyFactory(64, 32).factory.create(specOf(task));
      await first.buildModel(c);
      const best = { acc: -1 };
      await runEpochs(first, c.learning_rate, K, best);
      const dir = mkdtempSync(join(tmpdir(), 'trainer-ckpt-'));
      try {
        writeFileSync(join(dir, 'in.bin'), await first.saveCheckpoint());
        first.dispose();
        const child = spawnSync(
          process.execPath,
          [require.resolve('tsx/cli'), join(__dirname, 'fixtures', 'continue-training.ts'), dir, task.taskId, String(task.seed), String(M), String(c.learning_rate), String(best.acc)],
          { encoding: 'utf8', timeout: 60_000 },
        );
        if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
        expect(Buffer.from(readFileSync(join(dir, 'out.bin'))).equals(Buffer.from(reference.checkpoint))).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
  });
});
