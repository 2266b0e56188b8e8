import * as tf from '@tensorflow/tfjs-node';
import type { TorchGenerator } from '../../datasets/src';
import type { TrainingConfig } from '../../core/src';
import type { ModelKind } from './model/architectures';
import { Network } from './model/network';
import { PackedLayout, PackedVariable } from './ops/packed-variable';
import { createOptimizer } from './optim/create-optimizer';
import type { Optimizer } from './optim/optimizer';

/** Weights as plain tensors: parameters and buffers (batch-norm running statistics), by name. */
export interface WeightValues {
  params: Map<string, tf.Tensor>;
  buffers: Map<string, tf.Tensor>;
}

export function disposeValues(w: WeightValues | null): void {
  w?.params.forEach((t) => t.dispose());
  w?.buffers.forEach((t) => t.dispose());
}

/** Everything that exists once a model is built: network, weights, optimizer, best weights. */
export class ModelState {
  private constructor(
    public network: Network,
    /** Every parameter, in the variables of its PackedLayout (small ones packed together). */
    readonly params: PackedVariable,
    public buffers: Map<string, tf.Tensor>,
    public optimizer: Optimizer,
    public config: TrainingConfig,
    public best: WeightValues | null,
  ) {}

  /** A new model initialised from `g` as PyTorch would, with a fresh optimizer. */
  static fresh(kind: ModelKind, config: TrainingConfig, g: TorchGenerator): ModelState {
    const network = new Network(kind, config.dropout);
    const layout = new PackedLayout(network.params);
    const params = PackedVariable.fromHost(layout, network.initialParams(g));
    const buffers = network.initialBuffers();
    buffers.forEach((t) => tf.keep(t));
    return new ModelState(network, params, buffers, createOptimizer(config.optimizer, layout), config, null);
  }

  static assemble(
    network: Network, params: PackedVariable, buffers: Map<string, tf.Tensor>,
    optimizer: Optimizer, config: TrainingConfig, best: WeightValues | null,
  ): ModelState {
    return new ModelState(network, params, buffers, optimizer, config, best);
  }

  /** The parameters' current values, by name (a lone parameter's read shares its variable's buffer). */
  readParams(): Map<string, tf.Tensor> {
    return this.params.readParts();
  }

  /** New settings on the same weights; the optimizer state survives only if asked and the kind is unchanged. */
  reconfigure(config: TrainingConfig, keepOptimizerState: boolean): void {
    if (config.dropout !== this.config.dropout) this.network = new Network(this.network.kind, config.dropout);
    if (!keepOptimizerState || config.optimizer !== this.optimizer.kind) {
      this.optimizer.dispose();
      this.optimizer = createOptimizer(config.optimizer, this.params.layout);
    }
    this.config = config;
  }

  /** Installs buffers computed by a training step (already kept), freeing the replaced ones. */
  replaceBuffers(next: Map<string, tf.Tensor>): void {
    for (const [name, t] of this.buffers) if (next.get(name) !== t) t.dispose();
    this.buffers = next;
  }

  /**
   * Remembers the current weights. Holding reads is enough: the next in-place update
   * copies a variable's buffer rather than change a buffer that a read still holds.
   */
  keepBest(): void {
    disposeValues(this.best);
    this.best = {
      params: new Map([...this.params.readParts()].map(([name, t]) => [name, tf.keep(t)])),
      buffers: new Map([...this.buffers].map(([name, t]) => [name, tf.keep(tf.clone(t))])),
    };
  }

  dispose(): void {
    this.params.dispose();
    this.params.layout.dispose();
    this.buffers.forEach((t) => t.dispose());
    disposeValues(this.best);
    this.best = null;
    this.optimizer.dispose();
  }
}
