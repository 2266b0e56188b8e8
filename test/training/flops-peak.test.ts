import { measureMatMulPeak } from '../../layers/training/src/matmul-peak';
import { processIntraOpThreads } from '../../layers/training/src/thread-count';

describe('measureMatMulPeak', () => {
  it('times each kernel at each size and reports the fastest', () => {
    const peak = measureMatMulPeak({ sizes: [64, 128], repeats: 2, warmup: 1 });
    expect(peak.samples.map((s) => [s.size, s.kernel])).toEqual(
      expect.arrayContaining([[64, 'MatMul'], [128, 'MatMul']]),
    );
    for (const s of peak.samples) expect(s.gflops).toBeCloseTo((2 * s.size ** 3) / s.best_s / 1e9, 6);
    expect(peak.gflops).toBeGreaterThan(0);
    expect(peak.gflops).toBe(Math.max(...peak.samples.map((s) => s.gflops)));
    expect([64, 128]).toContain(peak.size);
    expect(peak).toMatchObject({ repeats: 2, warmup: 1, intra_op_threads: processIntraOpThreads() });
  });

  it('refuses a repeat count that times nothing', () => {
    expect(() => measureMatMulPeak({ sizes: [8], repeats: 0 })).toThrow(RangeError);
  });
});
