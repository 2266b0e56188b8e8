import * as tf from '@tensorflow/tfjs-node';
import { applyMomentum } from '../ops/optimizer-kernels';
import type { ResourceVariable } from '../ops/resource-variable';
import { need, Optimizer, OptimizerState, ParamShape, releaseReads, slotVariables, StepInputs, stepCounts, withL2 } from './optimizer';

export const SGD_MOMENTUM = 0.9;

/**
 * torch.optim.SGD(momentum=0.9, dampening=0, nesterov=False, weight_decay=wd):
 * d = g + wd·p; buf = 0.9·buf + d (a zero buffer makes PyTorch's first step, buf = d);
 * p ← p − lr·buf.
 */
export class Sgd implements Optimizer {
  readonly kind = 'sgd' as const;
  private readonly buffers: Map<string, ResourceVariable>;
  private readonly counts: Map<string, number>;

  constructor(params: readonly ParamShape[], state?: OptimizerState) {
    this.buffers = slotVariables('momentum_buffer', params, state);
    this.counts = stepCounts(params, state);
  }

  steps(): ReadonlyMap<string, number> {
    return this.counts;
  }

  step({ params, values, grads, lr, weightDecay }: StepInputs): void {
    const effective = new Map<string, tf.Tensor>();
    for (const name of params.keys()) effective.set(name, withL2(need(grads, name), need(values, name), weightDecay));
    releaseReads(values);
    const lrScalar = tf.scalar(lr);
    const momentum = tf.scalar(SGD_MOMENTUM);
    for (const [name, variable] of params) {
      applyMomentum(variable, need(this.buffers, name), lrScalar, need(effective, name), momentum);
      this.counts.set(name, need(this.counts, name) + 1);
    }
  }

  slots(): ReadonlyMap<string, ReadonlyMap<string, ResourceVariable>> {
    return new Map([['momentum_buffer', this.buffers]]);
  }

  dispose(): void {
    this.buffers.forEach((v) => v.dispose());
  }
}
