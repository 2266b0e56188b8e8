import { runScheduled, withinCostLimit, type PlannedEpisode, type SchedulerEvent } from '../../layers/agent/src';
import type { EpochProgress } from '../../layers/core/src';

const plan = (n: number): PlannedEpisode[] => Array.from({ length: n }, (_, i) => ({ task_id: 'easy_mnist', seed: 42 + i }));

const epoch = (n: number): EpochProgress => ({
  epoch: n,
  index: n,
  total: 3,
  learning_rate: 0.001,
  train_loss: 1,
  train_accuracy: 0.5,
  val_loss: 1,
  val_accuracy: 0.5,
  seconds: 0.1,
  diverged: false,
});

/** Lets the test finish episodes in any order. */
function controlled() {
  const pending = new Map<number, () => void>();
  let running = 0;
  let most = 0;
  const run = async (episode: PlannedEpisode, onEpoch: (p: EpochProgress) => void) => {
    running += 1;
    most = Math.max(most, running);
    onEpoch(epoch(1));
    await new Promise<void>((resolve) => pending.set(episode.seed, resolve));
    running -= 1;
    return episode.seed * 10;
  };
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { run, pending, most: () => most, settle };
}

describe('eval scheduler', () => {
  it('never runs more than K episodes at once, starts them in plan order and reports done/running/queued', async () => {
    const c = controlled();
    const events: SchedulerEvent[] = [];
    const done = runScheduled({ episodes: plan(5), concurrency: 2, run: c.run, onEvent: (e) => events.push(e) });
    await c.settle();
    expect([...c.pending.keys()]).toEqual([42, 43]);
    c.pending.get(43)!();
    await c.settle();
    expect([...c.pending.keys()]).toEqual([42, 43, 44]);
    for (const seed of [42, 44]) c.pending.get(seed)!();
    await c.settle();
    for (const seed of [45, 46]) c.pending.get(seed)!();
    const outcome = await done;
    expect(c.most()).toBe(2);
    expect(outcome.results.map((r) => r.episode.seed)).toEqual([43, 42, 44, 45, 46]);
    expect(outcome.results.map((r) => r.result)).toEqual([430, 420, 440, 450, 460]);
    expect(outcome.skipped).toEqual([]);
    const firstEpoch = events.find((e) => e.type === 'epoch')!;
    expect(firstEpoch.state).toEqual({ done: 0, running: [{ task_id: 'easy_mnist', seed: 42, epoch: epoch(1) }], queued: 4, skipped: 0 });
    expect(events.at(-1)).toMatchObject({ type: 'finished', state: { done: 5, running: [], queued: 0 } });
    expect(events.filter((e) => e.type === 'started')).toHaveLength(5);
  });

  it('K larger than the plan runs everything at once', async () => {
    let running = 0;
    let most = 0;
    await runScheduled({
      episodes: plan(3),
      concurrency: 8,
      run: async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setImmediate(r));
        running -= 1;
      },
    });
    expect(most).toBe(3);
  });

  it('stops starting episodes when mayStart says no, and reports the skipped ones', async () => {
    let finished = 0;
    const events: SchedulerEvent[] = [];
    const outcome = await runScheduled({
      episodes: plan(6),
      concurrency: 1,
      run: async () => (finished += 1),
      mayStart: () => finished < 2,
      onEvent: (e) => events.push(e),
    });
    expect(outcome.results).toHaveLength(2);
    expect(outcome.skipped.map((p) => p.seed)).toEqual([44, 45, 46, 47]);
    expect(events.find((e) => e.type === 'stopped')?.state).toMatchObject({ done: 2, queued: 0, skipped: 4 });
  });

  it('a runner that throws ends the eval after the running episodes, starting no more', async () => {
    const started: number[] = [];
    const run = async (episode: PlannedEpisode) => {
      started.push(episode.seed);
      await new Promise((r) => setImmediate(r));
      if (episode.seed === 42) throw new Error('server gone');
    };
    await expect(runScheduled({ episodes: plan(6), concurrency: 2, run })).rejects.toThrow('server gone');
    expect(started).toEqual([42, 43]);
  });

  it('withinCostLimit counts what was spent plus the running episodes and the new one at the mean cost', () => {
    expect(withinCostLimit({ spentUsd: 0, finished: 0, running: 3, maxUsd: 1 })).toBe(true);
    // Mean 0.1: 0.3 spent + (2 running + 1 new) × 0.1 = 0.6.
    expect(withinCostLimit({ spentUsd: 0.3, finished: 3, running: 2, maxUsd: 0.6 })).toBe(true);
    expect(withinCostLimit({ spentUsd: 0.3, finished: 3, running: 2, maxUsd: 0.59 })).toBe(false);
    expect(withinCostLimit({ spentUsd: 0.2, finished: 0, running: 0, maxUsd: 0.1 })).toBe(false);
  });
});
