import { busyRefusal, isSameRequest, type PlannedStep } from '../../layers/episodes/src';
import type { EpisodeLease } from '../../layers/storage/src';

/**
 * The store reads a lease as the item holds it. A lease written without request_id (an item
 * from before the field, or one damaged by hand) must not make two calls that carry no
 * request_id the same request: the second would wait for the first one's result as its own.
 */

const leaseWithoutRequestId = {
  holder: 'holder-1',
  call_sha256: 'c'.repeat(64),
  expires_at: '2031-01-01T00:00:00.000Z',
} as unknown as EpisodeLease;

const plannedWithoutRequestId = {
  episode: { tenant: 'tenant-1', episode_id: 'ep-1' },
  call: { tool: 'run_epochs', arguments: { num_epochs: 1 } },
  callHash: 'c'.repeat(64),
  requestId: undefined,
} as unknown as PlannedStep;

describe('a lease that lacks request_id', () => {
  it('is not the same request as a call without request_id, even for the same call', () => {
    expect(isSameRequest(leaseWithoutRequestId, plannedWithoutRequestId)).toBe(false);
  });

  it('refuses such a call as episode_busy, not as a request_id conflict', () => {
    const refusal = busyRefusal(leaseWithoutRequestId, plannedWithoutRequestId);
    expect(refusal.code).toBe('episode_busy');
    expect(refusal.details).toEqual({ episode_id: 'ep-1', lease_expires_at: '2031-01-01T00:00:00.000Z' });
  });
});
