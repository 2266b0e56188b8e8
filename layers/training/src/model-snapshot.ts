import * as tf from '@tensorflow/tfjs-node';
import { CheckpointError, ModelSnapshot, NamedArray } from './checkpoint';
import type { ModelKind } from './model/architectures';
import { Network } from './model/network';
import { ModelState, WeightValues } from './model-state';
import { PackedLayout, PackedVariable } from './ops/packed-variable';
import { createOptimizer, OPTIMIZER_SLOTS } from './optim/create-optimizer';

/** The model's tensors as named host arrays, per parameter, in PyTorch's names. */
export function snapshotModel(model: ModelState): ModelSnapshot {
  const { network, optimizer } = model;
  const tensors: NamedArray[] = [];
  tf.tidy(() => {
    tensors.push(...valueArrays(network, { params: model.readParams(), buffers: model.buffers }, ''));
    for (const [slot, packed] of optimizer.slots()) {
      const values = packed.readHost();
      for (const p of network.params) tensors.push({ name: `optimizer/${slot}/${p.name}`, shape: [...p.shape], data: values.get(p.name)! });
    }
    if (model.best) tensors.push(...valueArrays(network, model.best, 'best/'));
  });
  const steps = Object.fromEntries(optimizer.steps());
  return { config: model.config, optimizer: { kind: optimizer.kind, steps }, tensors };
}

/** Rebuilds a model from a snapshot, after checking that every tensor it needs is there with its shape. */
export function restoreModel(kind: ModelKind, snapshot: ModelSnapshot): ModelState {
  const { config, optimizer } = snapshot;
  const network = new Network(kind, config.dropout);
  const byName = new Map(snapshot.tensors.map((t) => [t.name, t]));
  const first = network.params[0]!.name;
  const current = readHost(network, byName, '');
  const best = byName.has(`best/param/${first}`) ? readHost(network, byName, 'best/') : null;
  const slots = new Map(OPTIMIZER_SLOTS[optimizer.kind].map((slot) => [
    slot, new Map(network.params.map((p) => [p.name, need(byName, `optimizer/${slot}/${p.name}`, p.shape).data])),
  ]));
  const steps = new Map(network.params.map((p) => [p.name, optimizer.steps[p.name] ?? invalid(`no step count for ${p.name}`)]));
  if (new Set(steps.values()).size !== 1) invalid(`the parameters' optimizer step counts differ (${[...new Set(steps.values())].join(', ')}); every parameter steps with every batch`);
  const layout = new PackedLayout(network.params);
  const params = PackedVariable.fromHost(layout, new Map([...current.params].map(([name, a]) => [name, a.data])));
  const restoredOptimizer = createOptimizer(optimizer.kind, layout, { steps, slots });
  return ModelState.assemble(network, params, toTensors(current.buffers), restoredOptimizer, config, best && {
    params: toTensors(best.params),
    buffers: toTensors(best.buffers),
  });
}

function valueArrays(network: Network, w: WeightValues, prefix: string): NamedArray[] {
  return [
    ...network.params.map((p) => hostArray(`${prefix}param/${p.name}`, p.shape, w.params.get(p.name)!)),
    ...network.buffers.map((b) => hostArray(`${prefix}buffer/${b.name}`, b.shape, w.buffers.get(b.name)!)),
  ];
}

function hostArray(name: string, shape: readonly number[], t: tf.Tensor): NamedArray {
  return { name, shape: [...shape], data: t.dataSync() as Float32Array };
}

interface HostWeights {
  params: Map<string, NamedArray>;
  buffers: Map<string, NamedArray>;
}

function readHost(network: Network, byName: Map<string, NamedArray>, prefix: string): HostWeights {
  return {
    params: new Map(network.params.map((p) => [p.name, need(byName, `${prefix}param/${p.name}`, p.shape)])),
    buffers: new Map(network.buffers.map((b) => [b.name, need(byName, `${prefix}buffer/${b.name}`, b.shape)])),
  };
}

function toTensors(arrays: Map<string, NamedArray>): Map<string, tf.Tensor> {
  return new Map([...arrays].map(([name, a]) => [name, tf.keep(tf.tensor(a.data, a.shape))]));
}

function need(byName: Map<string, NamedArray>, name: string, shape: readonly number[]): NamedArray {
  const t = byName.get(name);
  if (!t) invalid(`checkpoint lacks tensor ${name}`);
  if (t.shape.join('x') !== shape.join('x')) invalid(`checkpoint tensor ${name} has shape [${t.shape}], the model needs [${shape}]`);
  return t;
}

function invalid(message: string): never {
  throw new CheckpointError('invalid', message);
}
