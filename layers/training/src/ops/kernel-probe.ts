import * as tf from '@tensorflow/tfjs-node';
import { conv2dSameWithBias } from './conv';
import { maxPool2, maxPool2Grad } from './max-pool';

let usable: boolean | undefined;

/**
 * Whether the labelled oneDNN kernels (see onednn.ts) exist in this TensorFlow library and
 * give exactly what TensorFlow's own kernels give on a probe, max-pooling ties included.
 * Checked once per process; false makes the engine use TensorFlow's kernels.
 */
export function oneDnnKernelsAvailable(): boolean {
  if (usable === undefined) {
    try {
      usable = tf.tidy(() => sameValues(probePooling) && sameValues(probeConvolution));
    } catch {
      usable = false;
    }
  }
  return usable;
}

function sameValues(probe: (oneDnn: boolean) => tf.Tensor): boolean {
  const a = probe(false).dataSync();
  const b = probe(true).dataSync();
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function probePooling(oneDnn: boolean): tf.Tensor {
  const x = tf.tensor4d([1, 1, 3, -1, 2, 3, 3, 2, 5, 0, -2, -2, 0, 5, -2, -2], [1, 4, 4, 1]);
  const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  return maxPool2Grad(x, maxPool2(x, oneDnn), dy);
}

function probeConvolution(oneDnn: boolean): tf.Tensor {
  const x = tf.tensor4d(Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => ((i * 37) % 11) - 5), [2, 5, 5, 3]);
  const filter = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => ((i * 13) % 7) / 8 - 0.4), [3, 3, 3, 4]);
  return conv2dSameWithBias(x, filter, tf.tensor1d([0.5, -1, 0.25, 2]), oneDnn);
}
