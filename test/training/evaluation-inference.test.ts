import * as tf from '@tensorflow/tfjs-node';
import { TorchGenerator } from '../../layers/datasets/src/torch-generator';
import { splitTensors, SplitTensors } from '../../layers/training/src/data/split-tensors';
import { evaluate } from '../../layers/training/src/evaluation';
import type { KernelChoice } from '../../layers/training/src/layers/layer';
import { ModelState } from '../../layers/training/src/model-state';
import { referenceLogits } from './reference-forward';
import { config } from './trainer-helpers';
import { TOY_TASKS, toyTaskData } from './toy-data';

const KERNELS: KernelChoice[] = [
  { batchNorm: 'fused', oneDnn: true },
  { batchNorm: 'plain', oneDnn: false },
];

// 70 samples in validation batches of 64 (twice batch_size 32): a full batch and a batch of 6,
// whose batch statistics are far from the running ones.
const VAL_COUNT = 70;

/**
 * Running statistics unlike both the initial ones (0 and 1) and any batch's: a pass that
 * normalises with the batch's statistics gives other logits.
 */
function plantRunningStats(model: ModelState): void {
  let seed = 11;
  model.replaceBuffers(new Map([...model.buffers].map(([name, t]) => {
    const planted = name.endsWith('running_var')
      ? tf.randomUniform(t.shape, 0.5, 2, 'float32', seed++)
      : tf.randomNormal(t.shape, 0, 0.5, 'float32', seed++);
    return [name, tf.keep(planted)];
  })));
}

/** Mean cross-entropy and accuracy of the plain inference-mode forward pass: dropout off, running statistics. */
function expectedMetrics(model: ModelState, data: SplitTensors): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    const params = model.readParams();
    const logits = referenceLogits(model.network.kind, Object.fromEntries(params), data.images, 0, 0, model.buffers);
    const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(data.labels, 10), logits).dataSync()[0]!;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), data.labels), 'float32')).dataSync()[0]!;
    return { loss, accuracy: correct / data.count };
  });
}

describe('the validation pass runs in inference mode', () => {
  const cases = [
    // The CNN without dropout: batch norm alone must tell inference mode from training mode.
    ['simple_mlp with dropout 0.5', TOY_TASKS[0], 0.5, KERNELS[0]!],
    ['deeper_cnn with batch norm (fused kernels)', TOY_TASKS[2], 0, KERNELS[0]!],
    ['deeper_cnn with batch norm (plain kernels)', TOY_TASKS[2], 0, KERNELS[1]!],
  ] as const;

  it.each(cases)('%s: loss and accuracy equal a forward pass with dropout off and the running statistics', async (_name, task, dropout, kernels) => {
    const data = splitTensors(toyTaskData(task.dataset, 0, VAL_COUNT, 3), 'val');
    const model = ModelState.fresh(task.model, config({ dropout, batch_size: 32 }), TorchGenerator.seeded(task.seed));
    try {
      plantRunningStats(model);
      const expected = expectedMetrics(model, data);
      const got = await evaluate(model, data, kernels);
      expect(Math.abs(got.loss - expected.loss) / expected.loss).toBeLessThan(1e-5);
      expect(got.accuracy).toBe(expected.accuracy);
    } finally {
      model.dispose();
      tf.dispose([data.images, data.labels]);
    }
  });
});
