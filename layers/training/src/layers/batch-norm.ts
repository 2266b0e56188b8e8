import { batchNormInfer, batchNormTrain, BatchNormStats } from '../ops/batch-norm';
import { buffer, Layer, param, PassContext } from './layer';

/** nn.BatchNorm2d(channels): γ = 1, β = 0, running mean 0, running variance 1. */
export function batchNorm2d(prefix: string, channels: number): Layer {
  const names = {
    gamma: `${prefix}.weight`,
    beta: `${prefix}.bias`,
    mean: `${prefix}.running_mean`,
    variance: `${prefix}.running_var`,
  };
  const stats = (ctx: PassContext): BatchNormStats => ({
    gamma: param(ctx, names.gamma),
    beta: param(ctx, names.beta),
    runningMean: buffer(ctx, names.mean),
    runningVar: buffer(ctx, names.variance),
  });
  return {
    params: [
      { name: names.gamma, shape: [channels], init: () => new Float32Array(channels).fill(1) },
      { name: names.beta, shape: [channels], init: () => new Float32Array(channels) },
    ],
    buffers: [
      { name: names.mean, shape: [channels], initialValue: 0 },
      { name: names.variance, shape: [channels], initialValue: 1 },
    ],
    forward(x, ctx) {
      if (!ctx.training) return { y: batchNormInfer(x, stats(ctx), ctx.kernels.batchNorm), backward: notTrained };
      const out = batchNormTrain(x, stats(ctx), ctx.kernels.batchNorm);
      ctx.buffers.set(names.mean, out.runningMean);
      ctx.buffers.set(names.variance, out.runningVar);
      return {
        y: out.y,
        backward(dy, grads) {
          const { dx, dgamma, dbeta } = out.backward(dy);
          grads.set(names.gamma, dgamma);
          grads.set(names.beta, dbeta);
          return dx;
        },
      };
    },
  };
}

function notTrained(): never {
  throw new Error('backward of an inference-mode batch norm');
}
