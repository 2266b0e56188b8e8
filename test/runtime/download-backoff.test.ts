import { DownloadBackoff, FIRST_DOWNLOAD_RETRY_MS, MAX_DOWNLOAD_RETRY_MS } from '../../layers/runtime/src';

describe('DownloadBackoff: after a failed download, the next attempt waits 30 s, doubling to 10 min', () => {
  it('refuses attempts inside the window, allows them after, doubles the delay per failure up to the cap, and forgets on success', () => {
    let now = 1_000_000;
    const backoff = new DownloadBackoff({ now: () => now });
    expect(backoff.waitingUntil('mnist')).toBeNull();

    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const next = backoff.failed('mnist').getTime();
      delays.push(next - now);
      expect(backoff.waitingUntil('mnist')?.getTime()).toBe(next);
      expect(backoff.waitingUntil('cifar10')).toBeNull();
      now = next - 1;
      expect(backoff.waitingUntil('mnist')).not.toBeNull();
      now = next;
      expect(backoff.waitingUntil('mnist')).toBeNull();
    }
    expect(delays).toEqual([30, 60, 120, 240, 480, 600, 600].map((s) => s * 1000));
    expect([FIRST_DOWNLOAD_RETRY_MS, MAX_DOWNLOAD_RETRY_MS]).toEqual([30_000, 600_000]);

    backoff.succeeded('mnist');
    expect(backoff.failed('mnist').getTime() - now).toBe(30_000);
  });
});
