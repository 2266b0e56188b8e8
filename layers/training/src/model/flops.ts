import * as tf from '@tensorflow/tfjs-node';
import type { PassContext } from '../layers/layer';
import { MODEL_INPUT, type ModelKind } from './architectures';
import { Network } from './network';

/**
 * What the counts include: the multiply-adds (× 2) of the convolutions and matrix products,
 * the kernels whose work grows with weights × positions. Bias, batch norm, ReLU, pooling,
 * dropout, the loss and Adam are left out (a few FLOPs per value: cheap to compute, though
 * not to move through memory), as FLOP counts of CNNs conventionally do.
 */
export const FLOPS_COUNTED =
  'FLOPs = 2 x the multiply-adds of the conv and matmul kernels (train: forward + input gradient, ' +
  'except for the first layer, + weight gradient); bias, batch norm, ReLU, pooling, loss and Adam not counted';

/** One layer with a matrix weight (a convolution filter or a dense weight), per sample. */
export interface LayerFlops {
  /** The weight's name (PyTorch's state_dict key). */
  weight: string;
  forward: number;
  /** Zero for the first layer with parameters: the engine skips its input gradient (network.ts). */
  inputGrad: number;
  weightGrad: number;
}

/** FLOPs per sample of a model's passes (see FLOPS_COUNTED). */
export interface ModelFlops {
  model: ModelKind;
  /** One sample's forward pass: a validation (or inference) sample. */
  forward: number;
  /** One training sample: forward, input gradients and weight gradients. */
  train: number;
  layers: LayerFlops[];
}

/**
 * Counts the model's FLOPs from its own layers: each layer's output shape comes from running
 * one zero sample through the layers in evaluation mode, so a changed architecture changes its
 * count. A weight of shape [..., out] applied at P output positions (H·W for a convolution,
 * 1 for a dense layer) makes P × its size multiply-adds per sample: a 3×3 filter [3, 3, in, out]
 * makes 9·in·out per position; each gradient makes as many again.
 */
export function modelFlops(kind: ModelKind): ModelFlops {
  const network = new Network(kind, 0);
  const positions = outputPositions(network);
  const firstTrainable = network.layers.findIndex((l) => l.params.length > 0);
  const layers: LayerFlops[] = [];
  network.layers.forEach((layer, i) => {
    for (const p of layer.params) {
      if (p.shape.length < 2) continue; // biases, batch norm's γ and β
      const forward = 2 * positions[i]! * p.shape.reduce((a, b) => a * b, 1);
      layers.push({ weight: p.name, forward, inputGrad: i > firstTrainable ? forward : 0, weightGrad: forward });
    }
  });
  const sum = (f: (l: LayerFlops) => number) => layers.reduce((n, l) => n + f(l), 0);
  return { model: kind, forward: sum((l) => l.forward), train: sum((l) => l.forward + l.inputGrad + l.weightGrad), layers };
}

/** For each layer, its output's positions per sample: the output's size over its last (channel) axis. */
function outputPositions(network: Network): number[] {
  const { height, width, channels } = MODEL_INPUT[network.kind];
  return tf.tidy(() => {
    const ctx: PassContext = {
      training: false,
      params: new Map(network.params.map((p) => [p.name, tf.zeros(p.shape)])),
      buffers: network.initialBuffers(),
      dropoutSeed: 0,
      kernels: { batchNorm: 'plain', oneDnn: false },
    };
    let x: tf.Tensor = tf.zeros([1, height, width, channels]);
    return network.layers.map((layer) => {
      x = layer.forward(x, ctx).y;
      return x.size / x.shape[x.shape.length - 1]!;
    });
  });
}
