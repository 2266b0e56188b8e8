import { modelFlops } from '../../layers/training/src/model/flops';

// Hand counts: multiply-adds per sample of each conv (H·W output positions × 3·3·in·out) and
// dense layer (in·out); FLOPs = 2 × multiply-adds.
const CONV = (hw: number, cin: number, cout: number) => hw * hw * 9 * cin * cout;

describe('modelFlops', () => {
  it('counts simple_mlp: three dense layers, no input gradient for the first', () => {
    const macs = [784 * 128, 128 * 64, 64 * 10];
    const f = modelFlops('simple_mlp');
    expect(f.layers.map((l) => l.weight)).toEqual(['layers.0.weight', 'layers.3.weight', 'layers.6.weight']);
    expect(f.layers.map((l) => l.forward)).toEqual(macs.map((m) => 2 * m));
    expect(f.forward).toBe(218_368);
    expect(f.train).toBe(3 * 218_368 - 2 * 784 * 128);
  });

  it('counts small_cnn: 28×28 then 14×14 convolutions (after the pool), then two dense layers', () => {
    const macs = [CONV(28, 1, 32), CONV(14, 32, 64), 64 * 7 * 7 * 128, 128 * 10];
    const f = modelFlops('small_cnn');
    expect(f.layers.map((l) => l.forward)).toEqual(macs.map((m) => 2 * m));
    expect(f.forward).toBe(8_482_304);
    expect(f.train).toBe(24_995_328); // ≈ 25 MFLOP per training sample
  });

  it('counts deeper_cnn: 32, 16, 8 pixel convolutions; batch norm adds no FLOPs', () => {
    const macs = [CONV(32, 3, 32), CONV(16, 32, 64), CONV(8, 64, 128), 128 * 4 * 4 * 256, 256 * 10];
    const f = modelFlops('deeper_cnn');
    expect(f.layers.map((l) => l.weight)).toEqual(['features.0.weight', 'features.4.weight', 'features.8.weight', 'classifier.1.weight', 'classifier.4.weight']);
    expect(f.layers.map((l) => l.forward)).toEqual(macs.map((m) => 2 * m));
    expect(f.forward).toBe(21_697_536); // ≈ 21.7 MFLOP
    expect(f.train).toBe(63_323_136); // ≈ 63 MFLOP
  });

  it('gives every layer but the first with parameters an input gradient as large as its forward', () => {
    for (const kind of ['simple_mlp', 'small_cnn', 'deeper_cnn'] as const) {
      const [first, ...rest] = modelFlops(kind).layers;
      expect(first!.inputGrad).toBe(0);
      expect(first!.weightGrad).toBe(first!.forward);
      for (const l of rest) expect([l.inputGrad, l.weightGrad]).toEqual([l.forward, l.forward]);
    }
  });
});
