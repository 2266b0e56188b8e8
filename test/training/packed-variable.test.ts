import * as tf from '@tensorflow/tfjs-node';
import { PackedLayout, PackedVariable } from '../../layers/training/src/ops/packed-variable';

const SHAPES = [{ name: 'w', shape: [3, 2] }, { name: 'big', shape: [2, 4] }, { name: 'b', shape: [2] }, { name: 'k', shape: [1, 2, 2, 1] }];
const values = () => new Map([
  ['w', Float32Array.of(1, 2, 3, 4, 5, 6)],
  ['big', Float32Array.of(10, 11, 12, 13, 14, 15, 16, 17)],
  ['b', Float32Array.of(-1, -2)],
  ['k', Float32Array.of(0.5, 0.25, 0.125, 0.0625)],
]);
const plain = (m: Map<string, ArrayLike<number>>) => Object.fromEntries([...m].map(([n, a]) => [n, [...Array.from(a)]]));
/** Tensors of 8 or more values alone, the rest packed. */
const layout = () => new PackedLayout(SHAPES, 8);

describe('PackedLayout', () => {
  it('keeps large tensors alone and packs the small ones end to end, in order', () => {
    const l = layout();
    expect(l.groups.map((g) => [g.names, g.packed])).toEqual([[['big'], false], [['w', 'b', 'k'], true]]);
    expect([0, 1].map((i) => l.groupShape(i))).toEqual([[2, 4], [12]]);
    const host = l.packHost(values());
    expect(host.map((a) => [...a])).toEqual([[10, 11, 12, 13, 14, 15, 16, 17], [1, 2, 3, 4, 5, 6, -1, -2, 0.5, 0.25, 0.125, 0.0625]]);
    expect(plain(l.unpackHost(host))).toEqual(plain(values()));
  });

  it('packs device tensors and cuts them back into their shapes', () => {
    const l = layout();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const parts = new Map([...values()].map(([n, a]) => [n, tf.tensor(a, SHAPES.find((s) => s.name === n)!.shape)]));
      const groups = l.pack(parts);
      expect(groups.map((g) => g.shape)).toEqual([[2, 4], [12]]);
      expect(groups.map((g) => [...g.dataSync()])).toEqual(l.packHost(values()).map((a) => [...a]));
      const back = l.unpack(groups.map((g) => g.clone()));
      for (const { name, shape } of SHAPES) {
        expect(back.get(name)!.shape).toEqual(shape);
        expect([...back.get(name)!.dataSync()]).toEqual([...values().get(name)!]);
      }
    });
    l.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names what is missing or of the wrong size', () => {
    const l = layout();
    const short = values();
    short.set('b', Float32Array.of(1));
    expect(() => l.packHost(short)).toThrow('b has 1 values, its shape [2] holds 2');
    const missing = values();
    missing.delete('k');
    expect(() => l.packHost(missing)).toThrow('no values for k');
    expect(() => tf.tidy(() => l.pack(new Map([['big', tf.zeros([2, 4])]])))).toThrow('no tensor named w to pack');
    l.dispose();
    expect(() => new PackedLayout([])).toThrow('at least one tensor');
  });

  it('leaves a lone small tensor in its own shape', () => {
    const l = new PackedLayout([{ name: 'only', shape: [2, 2] }]);
    expect(l.groups.map((g) => g.packed)).toEqual([false]);
    tf.tidy(() => {
      const [t] = l.pack(new Map([['only', tf.tensor2d([[1, 2], [3, 4]])]]));
      expect(l.unpack([t!]).get('only')!.arraySync()).toEqual([[1, 2], [3, 4]]);
    });
    l.dispose();
  });
});

describe('PackedVariable', () => {
  it('keeps the named values in its group variables and reads them back by name', () => {
    const l = layout();
    const variable = PackedVariable.fromHost(l, values());
    expect(plain(variable.readHost())).toEqual(plain(values()));
    tf.tidy(() => {
      expect(variable.readParts().get('w')!.arraySync()).toEqual([[1, 2], [3, 4], [5, 6]]);
      variable.assign([tf.fill([2, 4], 3), tf.fill([12], 2)]);
    });
    expect([...variable.readHost().get('k')!]).toEqual([2, 2, 2, 2]);
    expect([...variable.readHost().get('big')!]).toEqual([3, 3, 3, 3, 3, 3, 3, 3]);
    const zeros = PackedVariable.zeros(l);
    expect([...zeros.readHost().get('w')!]).toEqual([0, 0, 0, 0, 0, 0]);
    [variable, zeros].forEach((v) => v.dispose());
    l.dispose();
  });
});
