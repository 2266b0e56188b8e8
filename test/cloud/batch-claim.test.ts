import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { cloudItems, type BatchStateStore } from '../../layers/cloud/src/table-items';
import { BATCH_STATE_KEY } from '../../layers/storage/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock } from '../storage/helpers';

/**
 * The batch run's window and claim (`batch#state`, BatchStateStore) on dynalite: one run at a
 * time holds the window until it advances it, releases it or its claim expires; the window
 * only moves forward.
 */

const T0 = '2030-06-01T00:00:00.000Z';
const later = (ms: number) => new Date(Date.parse(T0) + ms);
const HOUR = 3_600_000;

describe('BatchStateStore', () => {
  let runtime: LocalRuntime;
  let batch: BatchStateStore;
  const clock = steppingClock(T0, 0);

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    batch = cloudItems({ documents: runtime.clients.documents, tableName: runtime.config.tableName, retentionSeconds: runtime.config.retentionSeconds, clock }).batch;
  });
  afterAll(async () => {
    await runtime?.close();
  });
  beforeEach(async () => {
    clock.set(T0);
    await runtime.clients.documents.send(new DeleteCommand({ TableName: runtime.config.tableName, Key: BATCH_STATE_KEY }));
  });

  it('grants a claim when there is no state, and refuses another run while it is live, naming the holder', async () => {
    expect(await batch.get()).toBeNull();
    const first = await batch.claim('run-a', later(HOUR));
    expect(first).toEqual({ claimed: true, state: { last_until: null, last_run_id: null, updated_at: null, claim: { run_id: 'run-a', expires_at: later(HOUR).toISOString(), inherited: [] } } });
    clock.advance(HOUR - 1);
    expect(await batch.claim('run-b', later(2 * HOUR))).toEqual({ claimed: false, holder: { run_id: 'run-a', expires_at: later(HOUR).toISOString(), inherited: [] } });
    // The holder may claim again (a retried find-episodes), and so extends its claim.
    expect(await batch.claim('run-a', later(3 * HOUR))).toMatchObject({ claimed: true });
    expect((await batch.get())?.claim).toEqual({ run_id: 'run-a', expires_at: later(3 * HOUR).toISOString(), inherited: [] });
  });

  it('lets another run take over a claim past its expiry, and hands it the window', async () => {
    await batch.claim('run-a', later(HOUR));
    expect(await batch.advance(later(10).toISOString(), 'run-a')).toBe(true);
    await batch.claim('run-failed', later(HOUR));
    clock.set(later(HOUR).toISOString());
    // At its expiry instant the claim still holds (expires_at < now is required).
    expect(await batch.claim('run-b', later(5 * HOUR))).toMatchObject({ claimed: false, holder: { run_id: 'run-failed' } });
    clock.advance(1);
    const taken = await batch.claim('run-b', later(5 * HOUR));
    expect(taken).toEqual({
      claimed: true,
      state: expect.objectContaining({ last_until: later(10).toISOString(), last_run_id: 'run-a', claim: { run_id: 'run-b', expires_at: later(5 * HOUR).toISOString(), inherited: ['run-failed'] } }),
    });
  });

  it('a run taking over after two failed runs inherits both; advancing clears what it inherited', async () => {
    await batch.claim('run-failed-1', later(HOUR));
    clock.set(later(HOUR + 1).toISOString());
    await batch.claim('run-failed-2', later(2 * HOUR));
    clock.set(later(2 * HOUR + 1).toISOString());
    const taken = await batch.claim('run-c', later(3 * HOUR));
    expect(taken).toMatchObject({ claimed: true, state: { claim: { run_id: 'run-c', inherited: ['run-failed-2', 'run-failed-1'] } } });
    expect(await batch.advance(later(20).toISOString(), 'run-c')).toBe(true);
    await batch.claim('run-d', later(4 * HOUR));
    expect((await batch.get())?.claim).toEqual({ run_id: 'run-d', expires_at: later(4 * HOUR).toISOString(), inherited: [] });
  });

  it('grants exactly one of many concurrent claims; the others are told who holds it', async () => {
    const runs = Array.from({ length: 8 }, (_, i) => `run-${i}`);
    const outcomes = await Promise.all(runs.map((run) => batch.claim(run, later(HOUR))));
    const winners = runs.filter((_, i) => outcomes[i]!.claimed);
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) if (!outcome.claimed) expect(outcome.holder).toEqual({ run_id: winners[0], expires_at: later(HOUR).toISOString(), inherited: [] });
    expect((await batch.get())?.claim?.run_id).toBe(winners[0]);
  });

  it('advances the window and releases the claim for the holder only', async () => {
    await batch.claim('run-a', later(HOUR));
    expect(await batch.advance(later(100).toISOString(), 'run-b')).toBe(false);
    expect(await batch.get()).toEqual({ last_until: null, last_run_id: null, updated_at: null, claim: { run_id: 'run-a', expires_at: later(HOUR).toISOString(), inherited: [] } });
    clock.advance(5);
    expect(await batch.advance(later(100).toISOString(), 'run-a')).toBe(true);
    expect(await batch.get()).toEqual({ last_until: later(100).toISOString(), last_run_id: 'run-a', updated_at: later(5).toISOString(), claim: null });
    // Released: the next run claims at once and starts where run-a ended.
    expect(await batch.claim('run-b', later(HOUR))).toEqual({ claimed: true, state: expect.objectContaining({ last_until: later(100).toISOString() }) });
  });

  it('never moves the window back, nor to where it is, even for the holder', async () => {
    await batch.claim('run-a', later(HOUR));
    expect(await batch.advance(later(100).toISOString(), 'run-a')).toBe(true);
    await batch.claim('run-late', later(HOUR));
    expect(await batch.advance(later(99).toISOString(), 'run-late')).toBe(false);
    expect(await batch.advance(later(100).toISOString(), 'run-late')).toBe(false);
    expect(await batch.get()).toMatchObject({ last_until: later(100).toISOString(), last_run_id: 'run-a' });
    expect(await batch.advance(later(101).toISOString(), 'run-late')).toBe(true);
    expect(await batch.get()).toMatchObject({ last_until: later(101).toISOString(), last_run_id: 'run-late', claim: null });
  });

  it('advances without a claim held (none was taken, or it was released)', async () => {
    expect(await batch.advance(later(7).toISOString(), 'run-a')).toBe(true);
    await batch.claim('run-b', later(HOUR));
    await batch.release('run-b');
    expect(await batch.advance(later(8).toISOString(), 'run-c')).toBe(true);
    expect(await batch.get()).toMatchObject({ last_until: later(8).toISOString(), last_run_id: 'run-c', claim: null });
  });

  it('release gives up the holder\'s claim only and leaves the window where it is', async () => {
    await batch.advance(later(50).toISOString(), 'run-0');
    await batch.claim('run-a', later(HOUR));
    await batch.release('run-b');
    expect((await batch.get())?.claim?.run_id).toBe('run-a');
    await batch.release('run-a');
    expect(await batch.get()).toEqual({ last_until: later(50).toISOString(), last_run_id: 'run-0', updated_at: T0, claim: null });
    await batch.release('run-a'); // nothing to release: no error
    expect(await batch.claim('run-b', later(HOUR))).toMatchObject({ claimed: true });
  });
});
