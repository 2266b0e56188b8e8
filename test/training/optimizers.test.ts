import * as tf from '@tensorflow/tfjs-node';
import type { OptimizerKind } from '../../layers/core/src/training-config';
import { PackedLayout, PackedVariable } from '../../layers/training/src/ops/packed-variable';
import { createOptimizer } from '../../layers/training/src/optim/create-optimizer';

// Parameters after each of 3 steps of torch.optim.SGD(momentum=0.9) (lr 0.1) / Adam / AdamW
// (lr 0.01) from P0 with the gradients GRADS, produced with torch 2.13.0 (CPU) by
// test/training/fixtures/make-torch-constants.py.
const P0 = [0.5, -1.25, 2.0, 0.0, -0.3];
const GRADS = [[0.1, -0.2, 0.3, 0.05, -1.0], [-0.4, 0.25, 0.0, 0.5, 0.125], [0.3, 0.3, -0.6, -0.05, 0.2]];
const LR: Record<OptimizerKind, number> = { sgd: 0.1, adam: 0.01, adamw: 0.01 };
const OPTIMIZER_TRAJECTORIES: Record<string, number[][]> = {
  "sgd wd=0.0": [[0.49000000953674316, -1.2300000190734863, 1.9700000286102295, -0.005000000353902578, -0.20000001788139343], [0.5210000276565552, -1.2369999885559082, 1.943000078201294, -0.05950000137090683, -0.12250001728534698], [0.5189000368118286, -1.273300051689148, 1.978700041770935, -0.1035500019788742, -0.072750024497509]],
  "sgd wd=0.1": [[0.48499998450279236, -1.2174999713897705, 1.9500000476837158, -0.005000000353902578, -0.19700001180171967], [0.5066499710083008, -1.2010749578475952, 1.8855000734329224, -0.059450000524520874, -0.11483001708984375], [0.4910684823989868, -1.2042816877365112, 1.8685951232910156, -0.10286049544811249, -0.05972873046994209]],
  "adam wd=0.0": [[0.49000000953674316, -1.2400000095367432, 1.9900000095367432, -0.009999997913837433, -0.2900000214576721], [0.4955950379371643, -1.2416273355484009, 1.9832993745803833, -0.018070876598358154, -0.2842746675014496], [0.49533185362815857, -1.2469145059585571, 1.9866997003555298, -0.023646164685487747, -0.28117847442626953]],
  "adam wd=0.1": [[0.49000000953674316, -1.2400000095367432, 1.9900000095367432, -0.009999997913837433, -0.2900000214576721], [0.49421122670173645, -1.2364439964294434, 1.9810218811035156, -0.01807205192744732, -0.2840192914009094], [0.49229696393013, -1.2368777990341187, 1.97928786277771, -0.023621948435902596, -0.2805050313472748]],
  "adamw wd=0.0": [[0.49000000953674316, -1.2400000095367432, 1.9900000095367432, -0.009999997913837433, -0.2900000214576721], [0.4955950379371643, -1.2416273355484009, 1.9832993745803833, -0.018070876598358154, -0.2842746675014496], [0.49533185362815857, -1.2469145059585571, 1.9866997003555298, -0.023646164685487747, -0.28117847442626953]],
  "adamw wd=0.1": [[0.4895000159740448, -1.2387499809265137, 1.9880000352859497, -0.009999997913837433, -0.2897000312805176], [0.49460554122924805, -1.2391386032104492, 1.979311466217041, -0.018060876056551933, -0.28368496894836426], [0.4938477575778961, -1.243186593055725, 1.9807325601577759, -0.023618102073669434, -0.28030508756637573]],
};

/**
 * How far from PyTorch a value may be. SGD: 2 float32 steps (PyTorch's vectorised kernels
 * fuse a + α·b into one rounding where TensorFlow rounds twice). Adam: 1e-4 of the learning
 * rate, the size of one update: TensorFlow's fused kernel computes 1 − β2 in float32
 * (1 − 0.999f is 1.3e-5 off 0.001), which moves each update by ~1e-5 of itself.
 */
function close(kind: OptimizerKind, got: Float32Array, want: number[]): boolean {
  return kind === 'sgd' ? ulps(got, want) <= 2 : want.every((w, i) => Math.abs(got[i]! - w) <= 1e-4 * LR[kind]);
}

function ulps(got: Float32Array, want: number[]): number {
  const bits = (v: number) => {
    const i = new Int32Array(new Float32Array([v]).buffer)[0]!;
    return i < 0 ? -(i & 0x7fffffff) : i; // monotone integer order of floats
  };
  return Math.max(...want.map((w, i) => Math.abs(bits(got[i]!) - bits(w))));
}

/** Runs the trajectory with the 5 values split over two parameters, as the trainer calls the optimizer. */
function trajectory(kind: OptimizerKind, weightDecay: number) {
  const layout = new PackedLayout([{ name: 'a', shape: [2] }, { name: 'b', shape: [3] }]);
  const optimizer = createOptimizer(kind, layout);
  const params = PackedVariable.fromHost(layout, new Map([['a', Float32Array.from(P0.slice(0, 2))], ['b', Float32Array.from(P0.slice(2))]]));
  const read = () => tf.tidy(() => [...tf.concat(params.read()).dataSync()]);
  const after = GRADS.map((g) => {
    tf.tidy(() => {
      const values = params.readParts();
      const grads = new Map([['a', tf.tensor1d(g.slice(0, 2))], ['b', tf.tensor1d(g.slice(2))]]);
      optimizer.step({ params, values, grads, lr: LR[kind], weightDecay });
    });
    return read();
  });
  const dispose = () => {
    params.dispose();
    optimizer.dispose();
    layout.dispose();
  };
  return { optimizer, after, dispose };
}

describe('optimizers against PyTorch', () => {
  const cases = Object.keys(OPTIMIZER_TRAJECTORIES).map((key) => {
    const [kind, wd] = key.split(' wd=');
    return [key, kind as OptimizerKind, Number(wd)] as const;
  });

  it.each(cases)('%s follows torch.optim step by step', (key, kind, weightDecay) => {
    const { optimizer, after, dispose } = trajectory(kind, weightDecay);
    after.forEach((values, step) => {
      expect({ step, values, close: close(kind, Float32Array.from(values), OPTIMIZER_TRAJECTORIES[key]![step]!) }).toMatchObject({ close: true });
    });
    expect(Object.fromEntries(optimizer.steps())).toEqual({ a: 3, b: 3 });
    dispose();
  });

  it('keeps its slots per parameter under PyTorch\'s state names', () => {
    const { optimizer, dispose } = trajectory('adam', 0);
    expect([...optimizer.slots().keys()]).toEqual(['exp_avg', 'exp_avg_sq']);
    expect([...optimizer.slots().get('exp_avg')!.readHost().keys()]).toEqual(['a', 'b']);
    dispose();
    const layout = new PackedLayout([{ name: 'w', shape: [4, 2] }, { name: 'b', shape: [2] }]);
    const sgd = createOptimizer('sgd', layout);
    tf.tidy(() => expect(sgd.slots().get('momentum_buffer')!.readParts().get('w')!.shape).toEqual([4, 2]));
    sgd.dispose();
    layout.dispose();
  });

  it('continues from a saved state, and refuses step counts that differ between parameters', () => {
    const layout = new PackedLayout([{ name: 'a', shape: [2] }, { name: 'b', shape: [3] }]);
    const slots = new Map([['momentum_buffer', new Map([['a', Float32Array.of(1, 2)], ['b', Float32Array.of(3, 4, 5)]])]]);
    const sgd = createOptimizer('sgd', layout, { steps: new Map([['a', 7], ['b', 7]]), slots });
    expect(Object.fromEntries(sgd.steps())).toEqual({ a: 7, b: 7 });
    expect([...sgd.slots().get('momentum_buffer')!.readHost().get('b')!]).toEqual([3, 4, 5]);
    sgd.dispose();
    expect(() => createOptimizer('sgd', layout, { steps: new Map([['a', 7], ['b', 6]]), slots })).toThrow(/step counts differ \(7, 6\)/);
    layout.dispose();
  });

  it('leaks no tensors per step', () => {
    const before = tf.memory().numTensors;
    const { dispose } = trajectory('adamw', 0.1);
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
