import { biasAddGrad, conv2dFilterGrad, conv2dInputGrad, conv2dSameWithBias } from '../ops/conv';
import { defaultBiasBound, defaultWeightBound, oihwToHwio, torchUniform } from '../model/init';
import { Layer, param } from './layer';

const K = 3;

/** nn.Conv2d(inChannels, outChannels, 3, padding=1) on NHWC activations. */
export function conv3x3(prefix: string, inChannels: number, outChannels: number): Layer {
  const w = `${prefix}.weight`;
  const b = `${prefix}.bias`;
  const fanIn = inChannels * K * K;
  const filterShape = [K, K, inChannels, outChannels];
  return {
    params: [
      {
        name: w,
        shape: filterShape,
        init: (g) => oihwToHwio(torchUniform(g, fanIn * outChannels, defaultWeightBound(fanIn)), outChannels, inChannels, K),
      },
      { name: b, shape: [outChannels], init: (g) => torchUniform(g, outChannels, defaultBiasBound(fanIn)) },
    ],
    buffers: [],
    forward(x, ctx) {
      const filter = param(ctx, w);
      const y = conv2dSameWithBias(x, filter, param(ctx, b), ctx.kernels.oneDnn);
      return {
        y,
        backward(dy, grads, needInputGrad) {
          grads.set(w, conv2dFilterGrad(x, dy, filterShape));
          grads.set(b, biasAddGrad(dy));
          return needInputGrad ? conv2dInputGrad(filter, dy, x.shape) : null;
        },
      };
    },
  };
}
