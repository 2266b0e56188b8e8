import { biasAdd, biasAddGrad, matMul } from '../ops/conv';
import { defaultBiasBound, defaultWeightBound, linearToInOut, torchUniform } from '../model/init';
import { Layer, param } from './layer';

/**
 * nn.Linear(inFeatures, outFeatures) named like PyTorch's module `prefix`.
 * `inputIndex` maps our input feature order to PyTorch's (see linearToInOut).
 */
export function dense(prefix: string, inFeatures: number, outFeatures: number, inputIndex?: (i: number) => number): Layer {
  const w = `${prefix}.weight`;
  const b = `${prefix}.bias`;
  return {
    params: [
      {
        name: w,
        shape: [inFeatures, outFeatures],
        init: (g) => linearToInOut(torchUniform(g, inFeatures * outFeatures, defaultWeightBound(inFeatures)), outFeatures, inFeatures, inputIndex),
      },
      { name: b, shape: [outFeatures], init: (g) => torchUniform(g, outFeatures, defaultBiasBound(inFeatures)) },
    ],
    buffers: [],
    forward(x, ctx) {
      const weight = param(ctx, w);
      const y = biasAdd(matMul(x, weight), param(ctx, b));
      return {
        y,
        backward(dy, grads, needInputGrad) {
          grads.set(w, matMul(x, dy, true, false));
          grads.set(b, biasAddGrad(dy));
          return needInputGrad ? matMul(dy, weight, false, true) : null;
        },
      };
    },
  };
}
