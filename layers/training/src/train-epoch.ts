import * as tf from '@tensorflow/tfjs-node';
import type { AugmentationSetting, TrainPassMetrics } from '../../core/src';
import type { DatasetName } from '../../datasets/src';
import { augmentBatch } from './augment/augmenter';
import { Batch, EpochBatches } from './data/epoch-batches';
import type { SplitTensors } from './data/split-tensors';
import { EventLoopYield } from './event-loop-yield';
import type { KernelChoice } from './layers/layer';
import type { ModelState } from './model-state';
import { softmaxCrossEntropy } from './ops/cross-entropy';
import { PassTotals } from './pass-totals';
import type { RngStreams } from './rng-streams';

export interface TrainEpochInputs {
  model: ModelState;
  data: SplitTensors;
  dataset: DatasetName;
  learningRate: number;
  augmentation: AugmentationSetting;
  rng: RngStreams;
  kernels: KernelChoice;
  /** Let the event loop run after this much work (event-loop-yield.ts); default YIELD_EVERY_MS. */
  yieldEveryMs?: number;
}

/**
 * One pass over the training set in this epoch's shuffled order, the last batch possibly
 * partial: forward, backward and an optimizer step per batch. Loss and accuracy are the
 * sample-weighted means over the pass, measured on the batches as trained (augmented,
 * dropout on), accumulated on the device and read back once.
 */
export async function trainEpoch(inputs: TrainEpochInputs): Promise<TrainPassMetrics> {
  const started = performance.now();
  const order = inputs.rng.shuffler(inputs.data.count).nextEpochOrder();
  const batches = new EpochBatches(inputs.data, order, inputs.model.config.batch_size);
  const totals = new PassTotals();
  const breather = new EventLoopYield(inputs.yieldEveryMs);
  try {
    for (let i = 0; i < batches.count; i++) {
      trainBatch(inputs, batches.take(), totals);
      await breather.maybe();
    }
    const { loss, accuracy } = await totals.means();
    return { loss, accuracy, seconds: (performance.now() - started) / 1000 };
  } finally {
    batches.dispose();
    totals.dispose();
  }
}

function trainBatch(inputs: TrainEpochInputs, taken: Batch, totals: PassTotals): void {
  const { model, rng } = inputs;
  const bufferNames = [...model.buffers.keys()];
  const out = disposingImages(taken, () => tf.tidy(() => {
    const { x, y } = augmented(inputs, taken);
    const values = model.readParams();
    const buffers = new Map(model.buffers);
    const ctx = { training: true, params: values, buffers, dropoutSeed: rng.global.nextUint32(), kernels: inputs.kernels };
    const pass = model.network.forward(x, ctx);
    const ce = softmaxCrossEntropy(pass.logits, y);
    const grads = pass.backward(ce.dLogits);
    model.optimizer.step({ params: model.params, values, grads, lr: inputs.learningRate, weightDecay: model.config.weight_decay });
    return {
      buffers: bufferNames.map((name) => buffers.get(name)!),
      losses: ce.losses,
      logits: pass.logits,
      labels: y,
    };
  }));
  model.replaceBuffers(new Map(bufferNames.map((name, i) => [name, out.buffers[i]!])));
  totals.add(out.losses, out.logits, out.labels);
}

/** Runs `step`, then frees the batch's images; frees its labels too if the step fails. */
function disposingImages<T>(taken: Batch, step: () => T): T {
  try {
    return step();
  } catch (error) {
    taken.y.dispose();
    throw error;
  } finally {
    taken.x.dispose();
  }
}

/** The batch as trained: augmented when augmentation is on. */
function augmented(inputs: TrainEpochInputs, { x, y }: Batch): Batch {
  const { enabled, strength } = inputs.augmentation;
  return { x: enabled ? augmentBatch(x, inputs.dataset, strength, inputs.rng.augment) : x, y };
}
