import * as tf from '@tensorflow/tfjs-node';
import { attr, KernelAttr, lazyAttrs, runKernelOutputs } from './kernels';

/** PyTorch's BatchNorm2d defaults. */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

export type BatchNormKernels = 'fused' | 'plain';

export interface BatchNormGrads {
  dx: tf.Tensor;
  dgamma: tf.Tensor;
  dbeta: tf.Tensor;
}

export interface BatchNormTrainOutput {
  y: tf.Tensor;
  /** Running statistics after this batch (momentum 0.1, unbiased batch variance). */
  runningMean: tf.Tensor;
  runningVar: tf.Tensor;
  backward(dy: tf.Tensor): BatchNormGrads;
}

export interface BatchNormStats {
  gamma: tf.Tensor;
  beta: tf.Tensor;
  runningMean: tf.Tensor;
  runningVar: tf.Tensor;
}

/** Training mode: normalise with the batch's statistics over N, H, W (NHWC). */
export function batchNormTrain(x: tf.Tensor, s: BatchNormStats, kernels: BatchNormKernels): BatchNormTrainOutput {
  return kernels === 'fused' ? fusedTrain(x, s) : plainTrain(x, s);
}

/** Inference mode: normalise with the running statistics. */
export function batchNormInfer(x: tf.Tensor, s: BatchNormStats, kernels: BatchNormKernels): tf.Tensor {
  return kernels === 'fused' ? fusedInfer(x, s) : plainInfer(x, s);
}

function fusedAttrs(training: boolean): KernelAttr[] {
  return [
    attr.dtype('T'),
    attr.dtype('U'),
    attr.float('epsilon', BN_EPSILON),
    attr.string('data_format', 'NHWC'),
    attr.bool('is_training', training),
  ];
}

const trainAttrs = lazyAttrs(() => [...fusedAttrs(true), attr.float('exponential_avg_factor', BN_MOMENTUM)]);
const gradAttrs = lazyAttrs(() => fusedAttrs(true));
const inferAttrs = lazyAttrs(() => [...fusedAttrs(false), attr.float('exponential_avg_factor', 1)]);

function fusedTrain(x: tf.Tensor, s: BatchNormStats): BatchNormTrainOutput {
  const [y, runningMean, runningVar, r1, r2, r3] = runKernelOutputs(
    'FusedBatchNormV3', trainAttrs(), [x, s.gamma, s.beta, s.runningMean, s.runningVar], 6);
  return {
    y,
    runningMean,
    runningVar,
    backward(dy) {
      const [dx, dgamma, dbeta] = runKernelOutputs('FusedBatchNormGradV3', gradAttrs(), [dy, x, s.gamma, r1, r2, r3], 5);
      return { dx, dgamma, dbeta };
    },
  };
}

function fusedInfer(x: tf.Tensor, s: BatchNormStats): tf.Tensor {
  return runKernelOutputs('FusedBatchNormV3', inferAttrs(), [x, s.gamma, s.beta, s.runningMean, s.runningVar], 6)[0];
}

const AXES = [0, 1, 2];

function plainTrain(x: tf.Tensor, s: BatchNormStats): BatchNormTrainOutput {
  const count = x.size / x.shape[3]!;
  const mean = tf.mean(x, AXES);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), AXES);
  const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON));
  const xHat = tf.mul(centred, invStd);
  const unbiased = tf.mul(variance, count / Math.max(1, count - 1));
  return {
    y: tf.add(tf.mul(xHat, s.gamma), s.beta),
    runningMean: ema(s.runningMean, mean),
    runningVar: ema(s.runningVar, unbiased),
    backward(dy) {
      const dbeta = tf.sum(dy, AXES);
      const dgamma = tf.sum(tf.mul(dy, xHat), AXES);
      // dx = γ·invStd/N · (N·dy − Σdy − x̂·Σ(dy·x̂))
      const inner = tf.sub(tf.sub(tf.mul(dy, count), dbeta), tf.mul(xHat, dgamma));
      const dx = tf.mul(inner, tf.div(tf.mul(s.gamma, invStd), count));
      return { dx, dgamma, dbeta };
    },
  };
}

function ema(running: tf.Tensor, batch: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(running, 1 - BN_MOMENTUM), tf.mul(batch, BN_MOMENTUM));
}

function plainInfer(x: tf.Tensor, s: BatchNormStats): tf.Tensor {
  const scale = tf.mul(tf.rsqrt(tf.add(s.runningVar, BN_EPSILON)), s.gamma);
  return tf.add(tf.mul(tf.sub(x, s.runningMean), scale), s.beta);
}
