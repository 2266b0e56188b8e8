import * as tf from '@tensorflow/tfjs-node';
import { CheckpointError, ModelSnapshot, NamedArray } from './checkpoint';
import type { ModelKind } from './model/architectures';
import { Network } from './model/network';
import { ModelState } from './model-state';
import { type NamedShape, PackedLayout, PackedVariable } from './ops/packed-variable';
import { createOptimizer, OPTIMIZER_SLOTS } from './optim/create-optimizer';

/**
 * The model's tensors as named host arrays, per parameter, in PyTorch's names. Best weights
 * equal to the current ones (the last epoch was the best) are not stored twice.
 */
export function snapshotModel(model: ModelState): ModelSnapshot {
  const { network, optimizer } = model;
  const current: HostValues = { params: model.params.readHost(), buffers: hostValues(model.buffers) };
  const best: HostValues | null = model.best && { params: hostValues(model.best.params), buffers: hostValues(model.best.buffers) };
  const bestIsCurrent = best !== null && sameValues(best, current);
  const tensors = valueArrays(network, current, '');
  for (const [slot, packed] of optimizer.slots()) tensors.push(...named(`optimizer/${slot}/`, network.params, packed.readHost()));
  if (best && !bestIsCurrent) tensors.push(...valueArrays(network, best, 'best/'));
  const steps = Object.fromEntries(optimizer.steps());
  return { config: model.config, optimizer: { kind: optimizer.kind, steps }, tensors, bestIsCurrent };
}

/** Rebuilds a model from a snapshot, after checking that every tensor it needs is there with its shape. */
export function restoreModel(kind: ModelKind, snapshot: ModelSnapshot): ModelState {
  const { config, optimizer } = snapshot;
  const network = new Network(kind, config.dropout);
  const byName = new Map(snapshot.tensors.map((t) => [t.name, t]));
  const first = network.params[0]!.name;
  const current = readHost(network, byName, '');
  const storedBest = byName.has(`best/param/${first}`);
  if (snapshot.bestIsCurrent && storedBest) invalid('checkpoint stores best weights and says they are the current ones');
  const best = storedBest ? readHost(network, byName, 'best/') : null;
  const slots = new Map(OPTIMIZER_SLOTS[optimizer.kind].map((slot) => [
    slot, new Map(network.params.map((p) => [p.name, need(byName, `optimizer/${slot}/${p.name}`, p.shape).data])),
  ]));
  const steps = new Map(network.params.map((p) => [p.name, optimizer.steps[p.name] ?? invalid(`no step count for ${p.name}`)]));
  if (new Set(steps.values()).size !== 1) invalid(`the parameters' optimizer step counts differ (${[...new Set(steps.values())].join(', ')}); every parameter steps with every batch`);
  const layout = new PackedLayout(network.params);
  const params = PackedVariable.fromHost(layout, new Map([...current.params].map(([name, a]) => [name, a.data])));
  const restoredOptimizer = createOptimizer(optimizer.kind, layout, { steps, slots });
  const model = ModelState.assemble(network, params, toTensors(current.buffers), restoredOptimizer, config, best && {
    params: toTensors(best.params),
    buffers: toTensors(best.buffers),
  });
  if (snapshot.bestIsCurrent) model.keepBest();
  return model;
}

interface HostValues {
  params: ReadonlyMap<string, Float32Array>;
  buffers: ReadonlyMap<string, Float32Array>;
}

function hostValues(tensors: ReadonlyMap<string, tf.Tensor>): Map<string, Float32Array> {
  return new Map([...tensors].map(([name, t]) => [name, t.dataSync() as Float32Array]));
}

/** Bit for bit (so -0 differs from 0, and NaNs compare by their bits). */
function sameValues(a: HostValues, b: HostValues): boolean {
  const same = (x: ReadonlyMap<string, Float32Array>, y: ReadonlyMap<string, Float32Array>) =>
    [...x].every(([name, v]) => {
      const w = y.get(name);
      return w !== undefined && Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(w.buffer, w.byteOffset, w.byteLength));
    });
  return a.params.size === b.params.size && a.buffers.size === b.buffers.size && same(a.params, b.params) && same(a.buffers, b.buffers);
}

function valueArrays(network: Network, w: HostValues, prefix: string): NamedArray[] {
  return [...named(`${prefix}param/`, network.params, w.params), ...named(`${prefix}buffer/`, network.buffers, w.buffers)];
}

function named(prefix: string, list: readonly NamedShape[], values: ReadonlyMap<string, Float32Array>): NamedArray[] {
  return list.map((p) => ({ name: `${prefix}${p.name}`, shape: [...p.shape], data: values.get(p.name)! }));
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
