import * as tf from '@tensorflow/tfjs-node';
import { createTfjsTrainerFactory } from '../../layers/training/src';
import { decodeCheckpoint } from '../../layers/training/src/checkpoint';
import type { Trainer } from '../../layers/core/src/trainer-port';
import { TOY_TASKS, toyTaskData } from './toy-data';
import { config, specOf, toyFactory } from './trainer-helpers';

const MLP = TOY_TASKS[0];
const CNN = TOY_TASKS[1];

/** Optimizer kind and step count (every parameter must have taken the same number of steps). */
async function optimizerState(trainer: Trainer, task = CNN) {
  const { kind, steps } = decodeCheckpoint(await trainer.saveCheckpoint(), specOf(task)).model!.optimizer;
  const counts = new Set(Object.values(steps));
  expect(counts.size).toBe(1);
  return { kind, steps: [...counts][0] };
}

describe('TfjsTrainer', () => {
  it('loads the task data once, when it first trains', async () => {
    const { factory, loads } = toyFactory(64, 32);
    const trainer = await factory.create(specOf(CNN));
    await trainer.buildModel(config({ batch_size: 32 }));
    expect(loads).toEqual([]);
    await trainer.trainEpoch(0.001);
    await trainer.evaluate();
    await trainer.trainEpoch(0.001);
    expect(loads).toEqual(['medium_fashion']);
    trainer.dispose();
  });

  it('averages the training loss per sample, the last partial batch included', async () => {
    // Validation = training images; no dropout, augmentation or batch norm; lr 0 leaves the
    // weights as they are, so the train pass's mean loss must equal the evaluation's.
    const data = toyTaskData('mnist', 70, 0, 3);
    const factory = createTfjsTrainerFactory({ loadTaskData: async () => ({ ...data, val: data.train }) });
    const trainer = await factory.create(specOf(MLP));
    await trainer.buildModel(config({ batch_size: 32, optimizer: 'sgd' }));
    const train = await trainer.trainEpoch(0);
    const val = await trainer.evaluate();
    expect(train.loss).toBeCloseTo(val.loss, 6);
    expect(train.accuracy).toBeCloseTo(val.accuracy, 12);
    trainer.dispose();
  });

  it('evaluates without drawing random numbers or changing the model', async () => {
    const run = async (evaluations: number) => {
      const trainer = await toyFactory(64, 32).factory.create(specOf(CNN));
      await trainer.buildModel(config({ batch_size: 32, dropout: 0.5, augmentation: true }));
      await trainer.trainEpoch(0.001);
      const vals = [];
      for (let i = 0; i < evaluations; i++) vals.push(await trainer.evaluate());
      const next = await trainer.trainEpoch(0.001);
      trainer.dispose();
      return { vals, next };
    };
    const once = await run(1);
    const twice = await run(2);
    expect(twice.vals[1]!.loss).toBe(twice.vals[0]!.loss);
    expect(twice.next.loss).toBe(once.next.loss);
  });

  it('keeps optimizer state across applyConfig only when asked and the kind is unchanged', async () => {
    const trainer = await toyFactory(64, 32).factory.create(specOf(CNN));
    await trainer.buildModel(config({ optimizer: 'adam', batch_size: 32 }));
    await trainer.trainEpoch(0.001);
    expect(await optimizerState(trainer)).toEqual({ kind: 'adam', steps: 2 });
    await trainer.applyConfig(config({ optimizer: 'adam', batch_size: 64, weight_decay: 0.1 }), { keepOptimizerState: true });
    expect(await optimizerState(trainer)).toEqual({ kind: 'adam', steps: 2 });
    await trainer.trainEpoch(0.001); // one batch of 64
    expect(await optimizerState(trainer)).toEqual({ kind: 'adam', steps: 3 });
    await trainer.applyConfig(config({ optimizer: 'adam' }), { keepOptimizerState: false });
    expect(await optimizerState(trainer)).toEqual({ kind: 'adam', steps: 0 });
    await trainer.trainEpoch(0.001);
    await trainer.applyConfig(config({ optimizer: 'adamw' }), { keepOptimizerState: true });
    expect(await optimizerState(trainer)).toEqual({ kind: 'adamw', steps: 0 });
    trainer.dispose();
  });

  it('keeps the weights across applyConfig, and buildModel starts a new model', async () => {
    const trainer = await toyFactory(64, 32).factory.create(specOf(CNN));
    await trainer.buildModel(config({ batch_size: 32 }));
    await trainer.trainEpoch(0.01);
    await trainer.keepBestWeights();
    const weights = async () => decodeCheckpoint(await trainer.saveCheckpoint(), specOf(CNN)).model!.tensors.find((t) => t.name === 'param/features.0.weight')!.data;
    const trained = await weights();
    await trainer.applyConfig(config({ batch_size: 32, dropout: 0.4 }), { keepOptimizerState: true });
    expect(await weights()).toEqual(trained);
    await trainer.buildModel(config({ batch_size: 32 }));
    const rebuilt = decodeCheckpoint(await trainer.saveCheckpoint(), specOf(CNN)).model!;
    expect(rebuilt.tensors.find((t) => t.name === 'param/features.0.weight')!.data).not.toEqual(trained);
    expect(rebuilt.tensors.some((t) => t.name.startsWith('best/'))).toBe(false);
    expect(new Set(Object.values(rebuilt.optimizer.steps))).toEqual(new Set([0]));
    trainer.dispose();
  });

  it('refuses to train before buildModel, after dispose, or on data of the wrong dataset', async () => {
    const { factory } = toyFactory(64, 32);
    const trainer = await factory.create(specOf(CNN));
    await expect(trainer.trainEpoch(0.01)).rejects.toThrow(/no model yet/);
    await expect(trainer.applyConfig(config(), { keepOptimizerState: true })).rejects.toThrow(/no model yet/);
    trainer.dispose();
    await expect(trainer.buildModel(config())).rejects.toThrow(/disposed/);
    const wrong = createTfjsTrainerFactory({ loadTaskData: async () => toyTaskData('mnist', 8, 8) });
    const t2 = await wrong.create(specOf(CNN));
    await t2.buildModel(config());
    await expect(t2.trainEpoch(0.01)).rejects.toThrow(/trains on fashion_mnist, the loader gave mnist/);
    t2.dispose();
    await expect(factory.create({ taskId: 'nope', seed: 1 })).rejects.toThrow(/Unknown task_id/);
  });

  it.each([
    [TOY_TASKS[0].model, TOY_TASKS[0], 30],
    [TOY_TASKS[1].model, TOY_TASKS[1], 30],
    [TOY_TASKS[2].model, TOY_TASKS[2], 100],
  ] as const)('%s leaks no tensors over many epochs', async (_model, task, epochs) => {
    const trainer = await toyFactory(40, 24).factory.create(specOf(task));
    await trainer.buildModel(config({ optimizer: 'sgd', batch_size: 32, dropout: 0.3, augmentation: true, augmentation_strength: 0.9 }));
    const epoch = async () => {
      await trainer.trainEpoch(0.01);
      await trainer.evaluate();
      await trainer.keepBestWeights();
    };
    await epoch();
    const before = tf.memory().numTensors;
    for (let e = 0; e < epochs; e++) await epoch();
    await trainer.saveCheckpoint();
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('frees everything on dispose', async () => {
    const before = tf.memory().numTensors;
    const { factory } = toyFactory(40, 24);
    const trainer = await factory.create(specOf(TOY_TASKS[2]));
    await trainer.buildModel(config({ batch_size: 32 }));
    await trainer.trainEpoch(0.01);
    await trainer.keepBestWeights();
    const restored = await factory.restore(specOf(TOY_TASKS[2]), await trainer.saveCheckpoint());
    await restored.evaluate();
    trainer.dispose();
    restored.dispose();
    await new Promise((r) => setImmediate(r));
    expect(tf.memory().numTensors).toBe(before);
  });
});
