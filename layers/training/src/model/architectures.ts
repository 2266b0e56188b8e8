import { batchNorm2d } from '../layers/batch-norm';
import { conv3x3 } from '../layers/conv2d';
import { dense } from '../layers/dense';
import { dropoutLayer } from '../layers/dropout';
import { flattenLayer, reluLayer, reluThenPool } from '../layers/activation';
import type { Layer } from '../layers/layer';
import type { ModelKind } from '../../../core/src';
import { chwIndexOfHwc } from './init';

export { MODEL_KINDS, type ModelKind } from '../../../core/src';

/** Input image shape (height, width, channels) of each model. */
export const MODEL_INPUT: Record<ModelKind, { height: number; width: number; channels: number }> = {
  simple_mlp: { height: 28, width: 28, channels: 1 },
  small_cnn: { height: 28, width: 28, channels: 1 },
  deeper_cnn: { height: 32, width: 32, channels: 3 },
};

/** The layers of a model, named and initialised like pt_reference.py's modules. */
export function architecture(kind: ModelKind, dropout: number): Layer[] {
  return ARCHITECTURES[kind](dropout);
}

function simpleMlp(p: number): Layer[] {
  return [
    flattenLayer(),
    dense('layers.0', 784, 128), reluLayer(), dropoutLayer(p, 0),
    dense('layers.3', 128, 64), reluLayer(), dropoutLayer(p, 1),
    dense('layers.6', 64, 10),
  ];
}

function smallCnn(p: number): Layer[] {
  return [
    conv3x3('features.0', 1, 32), ...reluThenPool(),
    conv3x3('features.3', 32, 64), ...reluThenPool(),
    flattenLayer(),
    dense('classifier.1', 64 * 7 * 7, 128, chwIndexOfHwc(64, 7, 7)), reluLayer(), dropoutLayer(p, 0),
    dense('classifier.4', 128, 10),
  ];
}

function deeperCnn(p: number): Layer[] {
  return [
    conv3x3('features.0', 3, 32), batchNorm2d('features.1', 32), ...reluThenPool(),
    conv3x3('features.4', 32, 64), batchNorm2d('features.5', 64), ...reluThenPool(),
    conv3x3('features.8', 64, 128), batchNorm2d('features.9', 128), ...reluThenPool(),
    flattenLayer(),
    dense('classifier.1', 128 * 4 * 4, 256, chwIndexOfHwc(128, 4, 4)), reluLayer(), dropoutLayer(p, 0),
    dense('classifier.4', 256, 10),
  ];
}

/** The builder of each model kind the core declares. */
const ARCHITECTURES: Record<ModelKind, (dropout: number) => Layer[]> = {
  simple_mlp: simpleMlp,
  small_cnn: smallCnn,
  deeper_cnn: deeperCnn,
};
