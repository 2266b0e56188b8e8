import * as tf from '@tensorflow/tfjs-node';
import type { TorchGenerator } from '../../../datasets/src';
import type { BufferSpec, Layer, LayerStep, ParamSpec, PassContext } from '../layers/layer';
import { architecture, ModelKind } from './architectures';

export interface ForwardResult {
  logits: tf.Tensor;
  /** Backpropagates dLoss/dLogits; returns the gradient of every parameter, by name. */
  backward(dLogits: tf.Tensor): Map<string, tf.Tensor>;
}

/** A model's layers, parameters and buffers, in PyTorch's module order. */
export class Network {
  readonly layers: readonly Layer[];
  readonly params: readonly ParamSpec[];
  readonly buffers: readonly BufferSpec[];

  constructor(readonly kind: ModelKind, readonly dropout: number) {
    this.layers = architecture(kind, dropout);
    this.params = this.layers.flatMap((l) => l.params);
    this.buffers = this.layers.flatMap((l) => l.buffers);
  }

  /** Number of trainable values (PyTorch's sum of p.numel()). */
  get paramCount(): number {
    return this.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Initial parameter values drawn in PyTorch's module construction order. */
  initialParams(g: TorchGenerator): Map<string, Float32Array> {
    return new Map(this.params.map((p) => [p.name, p.init(g)]));
  }

  initialBuffers(): Map<string, tf.Tensor> {
    return new Map(this.buffers.map((b) => [b.name, tf.fill(b.shape, b.initialValue)]));
  }

  forward(x: tf.Tensor, ctx: PassContext): ForwardResult {
    const steps: LayerStep[] = [];
    let h = x;
    for (const layer of this.layers) {
      const step = layer.forward(h, ctx);
      steps.push(step);
      h = step.y;
    }
    const firstTrainable = this.layers.findIndex((l) => l.params.length > 0);
    return {
      logits: h,
      backward(dLogits) {
        const grads = new Map<string, tf.Tensor>();
        let dy: tf.Tensor | null = dLogits;
        for (let i = steps.length - 1; i >= firstTrainable && dy; i--) {
          dy = steps[i]!.backward(dy, grads, i > firstTrainable);
        }
        return grads;
      },
    };
  }
}
