import * as tf from '@tensorflow/tfjs-node';
import { applyMomentum } from '../ops/optimizer-kernels';
import type { PackedLayout, PackedVariable } from '../ops/packed-variable';
import { KeptScalars, Optimizer, OptimizerState, packedGradient, releaseReads, sharedStepCount, slotVariable, StepInputs, stepsByName } from './optimizer';

export const SGD_MOMENTUM = 0.9;

/**
 * torch.optim.SGD(momentum=0.9, dampening=0, nesterov=False, weight_decay=wd):
 * d = g + wd·p; buf = 0.9·buf + d (a zero buffer makes PyTorch's first step, buf = d);
 * p ← p − lr·buf.
 */
export class Sgd implements Optimizer {
  readonly kind = 'sgd' as const;
  private readonly buffer: PackedVariable;
  private count: number;
  private readonly constants = new KeptScalars();

  constructor(private readonly layout: PackedLayout, state?: OptimizerState) {
    this.buffer = slotVariable('momentum_buffer', layout, state);
    this.count = sharedStepCount(layout, state);
  }

  steps(): ReadonlyMap<string, number> {
    return stepsByName(this.layout, this.count);
  }

  step(inputs: StepInputs): void {
    const grads = packedGradient(inputs, true);
    releaseReads(inputs.values);
    const lr = tf.scalar(inputs.lr);
    const momentum = this.constants.get(SGD_MOMENTUM);
    inputs.params.variables.forEach((p, i) => applyMomentum(p, this.buffer.variables[i]!, lr, grads[i]!, momentum));
    this.count++;
  }

  slots(): ReadonlyMap<string, PackedVariable> {
    return new Map([['momentum_buffer', this.buffer]]);
  }

  dispose(): void {
    this.buffer.dispose();
    this.constants.dispose();
  }
}
