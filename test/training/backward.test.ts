import * as tf from '@tensorflow/tfjs-node';
import { trainingConfigSchema } from '../../layers/core/src/training-config';
import { TorchGenerator } from '../../layers/datasets/src/torch-generator';
import { createTfjsTrainerFactory } from '../../layers/training/src';
import { splitTensors } from '../../layers/training/src/data/split-tensors';
import type { KernelChoice } from '../../layers/training/src/layers/layer';
import type { ModelKind } from '../../layers/training/src/model/architectures';
import { Network } from '../../layers/training/src/model/network';
import { softmaxCrossEntropy } from '../../layers/training/src/ops/cross-entropy';
import { maxPoolLayer, reluLayer } from '../../layers/training/src/layers/activation';
import { oneDnnKernelsAvailable } from '../../layers/training/src/ops/kernel-probe';
import { referenceLogits } from './reference-forward';
import { TOY_TASKS, toyTaskData } from './toy-data';

/** Relative difference: max |a − b| / max |b|. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0]!));
}

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
}

const KERNELS: KernelChoice[] = [
  { batchNorm: 'fused', oneDnn: true },
  { batchNorm: 'plain', oneDnn: false },
];

describe('hand-written backward passes', () => {
  it('finds the labelled oneDNN kernels in this TensorFlow library, agreeing with TensorFlow\'s', () => {
    expect(oneDnnKernelsAvailable()).toBe(true);
  });

  const cases = TOY_TASKS.flatMap((t) => KERNELS.map((k) => [t.model, k.batchNorm, k.oneDnn ? 'oneDNN' : 'TensorFlow', t, k] as const));

  it.each(cases)('%s (%s batch norm, %s pooling and conv): loss and gradients equal tf.grads of the plain model', (_m, _b, _p, task, kernels) => {
    const kind: ModelKind = task.model;
    // Noisy backgrounds: no near-ties in pooling windows, where rounding differences between two
    // correct implementations would send a gradient to a different pixel (ties: the test below).
    const data = splitTensors(toyTaskData(task.dataset, 16, 0, 7), 'train');
    const network = new Network(kind, 0.3);
    tf.tidy(() => {
      const initial = network.initialParams(TorchGenerator.seeded(task.seed));
      const params = new Map(network.params.map((p) => [p.name, tf.tensor(initial.get(p.name)!, p.shape)]));
      const buffers = network.initialBuffers();
      const seed = 987654321;
      const pass = network.forward(data.images, { training: true, params, buffers: new Map(buffers), dropoutSeed: seed, kernels });
      const ce = softmaxCrossEntropy(pass.logits, data.labels);
      const grads = pass.backward(ce.dLogits);

      const names = network.params.map((p) => p.name);
      const refLoss = (...values: tf.Tensor[]) => {
        const p = Object.fromEntries(names.map((n, i) => [n, values[i]!]));
        const logits = referenceLogits(kind, p, data.images, 0.3, seed);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(data.labels, 10), logits) as tf.Scalar;
      };
      const { value, grads: refGrads } = tf.valueAndGrads(refLoss)(names.map((n) => params.get(n)!));
      expect(Math.abs(tf.mean(ce.losses).dataSync()[0]! - value.dataSync()[0]!)).toBeLessThan(1e-5);
      names.forEach((name, i) => {
        // A conv bias feeding batch norm has an analytically zero gradient: both sides hold rounding noise.
        const feedsBatchNorm = kind === 'deeper_cnn' && /^features\.[048]\.bias$/.test(name);
        const d = feedsBatchNorm ? maxAbs(grads.get(name)!) + maxAbs(refGrads[i]!) : relDiff(grads.get(name)!, refGrads[i]!);
        if (d > (feedsBatchNorm ? 1e-5 : 2e-4)) throw new Error(`${name}: difference ${d}`);
      });
    });
    tf.dispose([data.images, data.labels]);
  });
});

describe("max-pool then ReLU (the engine's order) against ReLU then max-pool (PyTorch's)", () => {
  // Windows with exact ties: positive, zero and negative maxima, and mixed signs.
  const x = tf.tensor4d([
    1, 1, 3, -1, 2, 2,
    1, 1, 3, 3, 2, 2,
    -1, -1, 0, 0, 0, -2,
    -1, -1, 0, -5, -2, -3,
  ], [1, 4, 6, 1]);
  const dy = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);

  it.each([true, false])('gives the same values and gradients (oneDNN kernels: %s), first maximum winning ties', (oneDnn) => {
    tf.tidy(() => {
      const ctx = { training: true, params: new Map(), buffers: new Map(), dropoutSeed: 0, kernels: { batchNorm: 'fused' as const, oneDnn } };
      const pool = maxPoolLayer().forward(x, ctx);
      const relu = reluLayer().forward(pool.y, ctx);
      const grads = new Map<string, tf.Tensor>();
      const dx = pool.backward(relu.backward(dy, grads, true)!, grads, true)!;
      const ref = tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(tf.relu(t) as tf.Tensor4D, 2, 2, 'valid'), dy)))(x);
      expect(Array.from(relu.y.dataSync())).toEqual([1, 3, 2, 0, 0, 0]);
      expect(Array.from(dx.dataSync())).toEqual(Array.from(ref.grad.dataSync()));
      expect(Array.from(dx.dataSync())).toEqual([
        1, 0, 2, 0, 3, 0,
        0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0,
      ]);
    });
  });
});

describe('kernel choice', () => {
  it('the labelled oneDNN kernels change nothing but speed: one epoch gives bit-identical results', async () => {
    const run = async (oneDnn: boolean) => {
      const task = TOY_TASKS[2];
      const factory = createTfjsTrainerFactory({ loadTaskData: async () => toyTaskData(task.dataset, 64, 32, 5), oneDnn });
      const trainer = await factory.create({ taskId: task.taskId, seed: task.seed });
      await trainer.buildModel(trainingConfigSchema.parse({ batch_size: 32, dropout: 0.2, augmentation: true }));
      const train = await trainer.trainEpoch(0.01);
      const val = await trainer.evaluate();
      trainer.dispose();
      return [train.loss, train.accuracy, val.loss, val.accuracy];
    };
    expect(await run(true)).toEqual(await run(false));
  });
});
