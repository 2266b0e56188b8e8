import { join } from 'node:path';
import { percentile, SERVER_CALL_KINDS, STATUS_PER_EPISODE, measureServerLatency, summarizeLatency } from '../../layers/bench/src/server-latency';
import { renderServerLatency } from '../../layers/bench/src/server-latency-report';

describe('server latency percentiles', () => {
  it('takes the nearest rank: a value that occurred', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('summarises a sample in milliseconds', () => {
    expect(summarizeLatency([3, 1, 2, 10])).toEqual({ n: 4, p50_ms: 2, p90_ms: 10, p99_ms: 10, max_ms: 10 });
  });
});

describe('measureServerLatency against a real local server', () => {
  it('times every non-training call kind over REST and every call succeeds', async () => {
    const figures = await measureServerLatency({ bin: join(__dirname, '../../bin/ml-trainer.js'), statusCalls: STATUS_PER_EPISODE, warmupCalls: 0 });
    expect(figures.failures).toEqual([]);
    expect(figures).toMatchObject({ task: 'easy_mnist', via: 'rest', episodes: 1, warmup_episodes: 0, trained_epoch: false });
    for (const kind of SERVER_CALL_KINDS) {
      const summary = figures.calls[kind];
      expect(summary.n).toBe(kind === 'get_training_status' ? STATUS_PER_EPISODE : 1);
      expect(figures.samples_ms[kind]).toHaveLength(summary.n);
      expect(summary.p50_ms).toBeGreaterThan(0);
      expect(summary.p50_ms).toBeLessThanOrEqual(summary.p90_ms);
      expect(summary.p90_ms).toBeLessThanOrEqual(summary.p99_ms);
      expect(summary.p99_ms).toBeLessThanOrEqual(summary.max_ms);
    }
    const lines = renderServerLatency(figures);
    for (const kind of SERVER_CALL_KINDS) expect(lines.some((line) => line.startsWith(kind))).toBe(true);
    expect(lines.join('\n')).toMatch(/get_training_status target p50 <= 15 ms, p99 <= 50 ms: (met|NOT met)/);
    expect(lines.join('\n')).not.toContain('failed');
  });
});
