import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { writeReport } from '../../layers/cloud/src/batch';
import { batchRunManifestKey } from '../../layers/cloud/src/batch-files';
import { findEpisodes, type FindEpisodesDeps, type FindEpisodesEvent, type FoundEpisode } from '../../layers/cloud/src/batch-find';
import { gradeBatch } from '../../layers/cloud/src/batch-grade';
import { DEFAULT_PRICES } from '../../layers/cloud/src/config';
import { itemsOf } from '../../layers/cloud/src/handler-support';
import type { CloudItems } from '../../layers/cloud/src/table-items';
import type { StoredEpisode } from '../../layers/storage/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock } from '../storage/helpers';
import { activeEpisode, at, endedEpisode, foundOf, manifestOf, manifestText, writeEpisodes, type Found } from './batch-fixtures';

/**
 * find-episodes (layers/cloud/src/batch-find.ts) over dynalite and s3rver: the run's claim,
 * the window, the cap (same-millisecond groups taken or left together), the abandoned
 * episodes filling the room left, and the JSON-lines manifest in the reports bucket.
 */

const HOUR = 3_600_000;
const CLAIM_SECONDS = 3600;

/** The order the manifest promises for ended episodes, computed independently. */
function inEndOrder(episodes: readonly StoredEpisode[]): StoredEpisode[] {
  const key = (e: StoredEpisode) => [e.ended_at, e.tenant, e.episode_id].join('\0');
  return [...episodes].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const line = (e: StoredEpisode, abandoned = false): FoundEpisode => ({ tenant: e.tenant, episode_id: e.episode_id, abandoned });

/** A runtime, a clock both the claim and find-episodes read, and find-episodes over them. */
function harness() {
  const clock = steppingClock('2030-01-01T00:00:00.000Z', 0);
  const h = {
    runtime: undefined as unknown as LocalRuntime,
    items: undefined as unknown as CloudItems,
    clock,
    deps(maxEpisodes: number): FindEpisodesDeps {
      return { episodes: h.runtime.episodes, items: h.items, reports: h.runtime.reports, abandonAfterHours: 24, maxEpisodes, retentionSeconds: 30 * 86_400, claimSeconds: CLAIM_SECONDS, clock };
    },
    find(maxEpisodes: number, event: FindEpisodesEvent) {
      return findEpisodes(h.deps(maxEpisodes), event);
    },
    /** One run over [since, until) that gives its claim back, so that runs of separate windows do not meet. */
    async window(runId: string, maxEpisodes: number, since: string, until: string): Promise<Found> {
      const found = foundOf(await h.find(maxEpisodes, { run_id: runId, started_at: until, request: { trigger: 'manual', since, until } }));
      await h.items.batch.release(runId);
      return found;
    },
  };
  beforeAll(async () => {
    h.runtime = await startLocalRuntime();
    h.items = itemsOf(h.runtime, clock);
  });
  afterAll(async () => {
    await h.runtime?.close();
  });
  return h;
}

describe('find-episodes at its cap', () => {
  const h = harness();

  it('takes every episode when exactly the cap ended: not truncated, the requested until', async () => {
    const base = '2030-03-01T10:00:00.000Z';
    const episodes = [0, 1, 2].map((i) => endedEpisode(`tenant-${2 - i}`, `exact-${i}`, at(base, i * 1000)));
    await writeEpisodes(h.runtime, episodes);
    const found = await h.window('exact', 3, base, at(base, HOUR));
    expect(found).toMatchObject({ since: base, until: at(base, HOUR), truncated: false, has_episodes: true, counts: { ended: 3, abandoned: 0, total: 3, carried_over: 0 } });
    expect(await manifestOf(h.runtime.reports, found)).toEqual(episodes.map((e) => line(e)));
  });

  it('stops before the first episode left out when more ended (distinct milliseconds)', async () => {
    const base = '2030-03-02T10:00:00.000Z';
    const episodes = [0, 1, 2, 3, 4].map((i) => endedEpisode('tenant-a', `over-${i}`, at(base, i)));
    await writeEpisodes(h.runtime, episodes);
    const found = await h.window('over', 3, base, at(base, HOUR));
    expect(found).toMatchObject({ until: episodes[3]!.ended_at, truncated: true, counts: { ended: 3, abandoned: 0, total: 3, carried_over: 2 } });
    expect(await manifestOf(h.runtime.reports, found)).toEqual(episodes.slice(0, 3).map((e) => line(e)));
  });

  it('leaves a same-millisecond group out whole when the cap falls inside it', async () => {
    const base = '2030-03-03T10:00:00.000Z';
    const t3 = at(base, 3);
    const episodes = [
      endedEpisode('tenant-a', 'grp-1', at(base, 1)),
      endedEpisode('tenant-a', 'grp-2', at(base, 2)),
      endedEpisode('tenant-c', 'grp-3', t3),
      endedEpisode('tenant-a', 'grp-4', t3),
      endedEpisode('tenant-b', 'grp-5', t3),
      endedEpisode('tenant-a', 'grp-6', at(base, 4)),
    ];
    await writeEpisodes(h.runtime, episodes);
    const found = await h.window('cut-in-group', 4, base, at(base, HOUR));
    expect(found).toMatchObject({ until: t3, truncated: true, counts: { ended: 2, total: 2, carried_over: 4 } });
    expect(await manifestOf(h.runtime.reports, found)).toEqual(episodes.slice(0, 2).map((e) => line(e)));
    // The continuation starts at the group and takes it whole (it fits a cap of 4), in (tenant, id) order.
    const next = await h.window('cut-in-group-2', 4, found.until, at(base, HOUR));
    expect(next).toMatchObject({ until: at(base, HOUR), truncated: false, counts: { ended: 4, carried_over: 0 } });
    expect(await manifestOf(h.runtime.reports, next)).toEqual(inEndOrder(episodes.slice(2)).map((e) => line(e)));
  });

  it('takes a same-millisecond group whole when it exactly fills the cap, and cuts at the next episode', async () => {
    const base = '2030-03-04T10:00:00.000Z';
    const episodes = [endedEpisode('tenant-a', 'fill-1', at(base, 1)), endedEpisode('tenant-b', 'fill-2', at(base, 2)), endedEpisode('tenant-a', 'fill-3', at(base, 2)), endedEpisode('tenant-a', 'fill-4', at(base, 3))];
    await writeEpisodes(h.runtime, episodes);
    const found = await h.window('fill', 3, base, at(base, HOUR));
    expect(found).toMatchObject({ until: at(base, 3), truncated: true, counts: { ended: 3, carried_over: 1 } });
    expect(await manifestOf(h.runtime.reports, found)).toEqual(inEndOrder(episodes.slice(0, 3)).map((e) => line(e)));
  });

  it('takes the cap of a same-millisecond group larger than the cap and moves one millisecond past it', async () => {
    const base = '2030-03-05T10:00:00.000Z';
    const tie = at(base, 5);
    const group = ['e', 'a', 'd', 'b', 'c'].map((s, i) => endedEpisode(`tenant-${i % 2}`, `big-${s}`, tie));
    const before = endedEpisode('tenant-a', 'big-before', at(base, 1));
    const after = endedEpisode('tenant-a', 'big-after', at(base, 6));
    await writeEpisodes(h.runtime, [before, ...group, after]);
    // The group comes after an episode: that one is taken, the group is left whole for the next run.
    const first = await h.window('big-1', 3, base, at(base, HOUR));
    expect(first).toMatchObject({ until: tie, truncated: true, counts: { ended: 1, carried_over: 6 } });
    expect(await manifestOf(h.runtime.reports, first)).toEqual([line(before)]);
    // The next run starts with the group: it takes the first 3 of the 5 and ends one millisecond past them.
    const second = await h.window('big-2', 3, first.until, at(base, HOUR));
    expect(second).toMatchObject({ since: tie, until: at(base, 6), truncated: true, counts: { ended: 3, total: 3, carried_over: 1 } });
    expect(await manifestOf(h.runtime.reports, second)).toEqual(inEndOrder(group).slice(0, 3).map((e) => line(e)));
    const third = await h.window('big-3', 3, second.until, at(base, HOUR));
    expect(third).toMatchObject({ until: at(base, HOUR), truncated: false, counts: { ended: 1, carried_over: 0 } });
    expect(await manifestOf(h.runtime.reports, third)).toEqual([line(after)]);
  });

  it('writes valid JSON lines under batch-runs/<run_id>/episodes.jsonl in the reports bucket; an empty window gives an empty manifest', async () => {
    const base = '2030-03-01T10:00:00.000Z'; // the first test's three episodes
    const found = await h.window('run/with:odd id', 10, base, at(base, HOUR));
    expect(found.manifest).toEqual({ bucket: h.runtime.config.reportsBucket, key: 'batch-runs/run_with_odd_id/episodes.jsonl' });
    expect(found.manifest.key).toBe(batchRunManifestKey('run/with:odd id'));
    expect((await h.runtime.reports.head(found.manifest.key))?.contentType).toBe('application/x-ndjson');
    const text = await manifestText(h.runtime.reports, found);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(Object.keys(JSON.parse(l))).toEqual(['tenant', 'episode_id', 'abandoned']);

    const empty = await h.window('empty', 10, '2030-02-01T00:00:00.000Z', '2030-02-02T00:00:00.000Z');
    expect(empty).toMatchObject({ truncated: false, has_episodes: false, counts: { ended: 0, abandoned: 0, total: 0, carried_over: 0 } });
    expect(await manifestText(h.runtime.reports, empty)).toBe('');
  });
});

describe('a chain of runs, each starting at the previous one\'s until', () => {
  const h = harness();

  it('lists each of 250 episodes exactly once with a cap of 100, across same-millisecond groups and midnight', async () => {
    // Groups of 1-2 episodes a millisecond, then groups of 5 (one of them straddling the second run's cap); midnight after 100 ms.
    const base = '2030-04-01T23:59:59.900Z';
    const msOf = (i: number) => (i < 195 ? Math.floor((i * 2) / 3) : 130 + Math.floor((i - 195) / 5));
    const episodes = Array.from({ length: 250 }, (_, i) => endedEpisode(`tenant-${i % 4}`, `chain-${String(i).padStart(3, '0')}`, at(base, msOf(i))));
    await writeEpisodes(h.runtime, episodes);
    const until = '2030-04-02T01:00:00.000Z';
    await h.items.batch.advance(base, 'before-the-chain');

    const manifests: FoundEpisode[][] = [];
    let listed = 0;
    for (let run = 0; run < 10; run++) {
      const runId = `chain-run-${run}`;
      const found = foundOf(await h.find(100, { run_id: runId, started_at: until, request: { trigger: run === 0 ? 'schedule' : 'continuation' } }));
      manifests.push(await manifestOf(h.runtime.reports, found));
      listed += found.counts.ended;
      expect(found.counts.ended).toBeLessThanOrEqual(100);
      expect(found.counts.ended).toBe(manifests[run]!.length);
      expect(found.counts.carried_over).toBe(250 - listed);
      // What write-report does at the end of the run: the next one starts at this until.
      expect(await h.items.batch.advance(found.until, runId)).toBe(true);
      if (!found.truncated) break;
    }
    expect(manifests.length).toBeGreaterThanOrEqual(3);
    const keys = manifests.flat().map((e) => `${e.tenant}#${e.episode_id}`);
    expect(new Set(keys).size).toBe(keys.length); // pairwise disjoint
    expect([...keys].sort()).toEqual(episodes.map((e) => `${e.tenant}#${e.episode_id}`).sort());
    expect(manifests.flat()).toEqual(inEndOrder(episodes).map((e) => line(e)));
    expect((await h.items.batch.get())?.last_until).toBe(until);
  });
});

describe('find-episodes and abandoned episodes', () => {
  const h = harness();
  const base = '2030-05-10T10:00:00.000Z';
  const until = at(base, HOUR);
  const ended = [0, 1, 2].map((i) => endedEpisode('tenant-a', `end-${i}`, at(base, i)));
  // Idle for more than 24 h before until: abandoned. The recent one is in use.
  const idle = [
    activeEpisode('tenant-a', 'idle-a1', '2030-05-08T00:00:00.000Z'),
    activeEpisode('tenant-a', 'idle-a2', '2030-05-08T00:00:01.000Z'),
    activeEpisode('tenant-b', 'idle-b1', '2030-05-08T00:00:02.000Z'),
  ];
  const recent = activeEpisode('tenant-b', 'recent', '2030-05-10T09:00:00.000Z');

  beforeAll(async () => {
    await writeEpisodes(h.runtime, [...ended, ...idle, recent]);
    for (const tenant of ['tenant-a', 'tenant-b']) await h.items.tenants.touch(tenant);
  });

  const abandonedOf = async (found: Found) => (await manifestOf(h.runtime.reports, found)).filter((e) => e.abandoned);

  it('lists the idle active episodes after the ended ones when they fit, never one in use', async () => {
    const found = await h.window('all-fit', 10, base, until);
    expect(found).toMatchObject({ until, truncated: false, counts: { ended: 3, abandoned: 3, total: 6, carried_over: 0 } });
    const manifest = await manifestOf(h.runtime.reports, found);
    expect(manifest.slice(0, 3)).toEqual(ended.map((e) => line(e)));
    expect(manifest.slice(3).sort((x, y) => x.episode_id.localeCompare(y.episode_id))).toEqual(idle.map((e) => line(e, true)));
  });

  it('fills only the room the ended episodes leave, and says truncated when the rest do not fit (until unchanged)', async () => {
    const found = await h.window('room-2', 5, base, until);
    expect(found).toMatchObject({ until, truncated: true, counts: { ended: 3, abandoned: 2, total: 5, carried_over: 0 } });
    expect(await abandonedOf(found)).toHaveLength(2);
    const exact = await h.window('room-3', 6, base, until);
    expect(exact).toMatchObject({ truncated: false, counts: { abandoned: 3, total: 6 } });
  });

  it('lists none when the ended episodes fill the cap', async () => {
    const full = await h.window('room-0', 3, base, until);
    expect(full).toMatchObject({ until, truncated: true, counts: { ended: 3, abandoned: 0, total: 3, carried_over: 0 } });
    expect(await abandonedOf(full)).toEqual([]);
    const cut = await h.window('room-cut', 2, base, until);
    expect(cut).toMatchObject({ until: ended[2]!.ended_at, truncated: true, counts: { ended: 2, abandoned: 0, carried_over: 1 } });
    expect(await abandonedOf(cut)).toEqual([]);
  });
});

describe('the run\'s claim', () => {
  const h = harness();
  const start = '2030-07-01T00:00:00.000Z';

  it('answers busy while another run holds an unexpired claim, and takes an expired claim over with the same window', async () => {
    await writeEpisodes(h.runtime, [endedEpisode('tenant-a', 'claimed-1', at(start, 10 * 60_000))]);
    h.clock.set(start);
    await h.items.batch.advance(start, 'earlier');
    const startedAt = at(start, HOUR);
    const first = foundOf(await h.find(10, { run_id: 'run-1', started_at: startedAt, request: { trigger: 'schedule' } }));
    expect(first).toMatchObject({ since: start, until: startedAt, counts: { ended: 1 } });

    h.clock.advance(CLAIM_SECONDS * 1000 - 1);
    const busy = await h.find(10, { run_id: 'run-2', started_at: startedAt, request: { trigger: 'manual' } });
    expect(busy).toEqual({ status: 'busy', held_by: 'run-1', held_until: at(start, CLAIM_SECONDS * 1000), has_episodes: false });
    expect(await h.runtime.reports.get(batchRunManifestKey('run-2'))).toBeNull();

    // run-1 failed: once its claim has expired, the next run grades the same window again.
    h.clock.advance(2);
    const second = foundOf(await h.find(10, { run_id: 'run-2', started_at: startedAt, request: { trigger: 'schedule' } }));
    expect(second).toMatchObject({ since: start, until: startedAt, counts: { ended: 1 } });
    expect(await manifestOf(h.runtime.reports, second)).toEqual(await manifestOf(h.runtime.reports, first));
    expect((await h.items.batch.get())?.claim).toEqual({ run_id: 'run-2', expires_at: at(h.clock().toISOString(), CLAIM_SECONDS * 1000), inherited: ['run-1'] });
  });
});

describe('an episode a run auto-submitted', () => {
  const h = harness();
  const start = '2030-08-01T00:00:00.000Z';

  it('is graded by that run (per-episode errors as entries) and not listed again by the next run', async () => {
    const abandoned = activeEpisode('tenant-a', 'left-alone', '2030-07-20T00:00:00.000Z');
    const endedLater = endedEpisode('tenant-b', 'ended-later', at(start, 2 * HOUR));
    await writeEpisodes(h.runtime, [abandoned, endedLater]);
    const broken = h.runtime.episodes.prepare(endedEpisode('tenant-b', 'broken', at(start, 1)));
    await h.runtime.clients.documents.send(new PutCommand({ TableName: h.runtime.config.tableName, Item: { ...broken.item, record: '{"schema_version":' } }));
    h.clock.set(at(start, HOUR));
    await h.items.tenants.touch('tenant-a');
    await h.items.batch.advance(start, 'earlier');
    const first = foundOf(await h.find(10, { run_id: 'run-1', started_at: at(start, HOUR), request: { trigger: 'schedule' } }));
    const manifest = await manifestOf(h.runtime.reports, first);
    expect(manifest).toEqual([{ tenant: 'tenant-b', episode_id: 'broken', abandoned: false }, line(abandoned, true)]);

    // grade-batch, after the run's until: it auto-submits the abandoned episode (which so ends in the next window).
    h.clock.set(at(start, HOUR + 60_000));
    const entries = await gradeBatch(
      { episodes: h.runtime.episodes, items: h.items, prices: DEFAULT_PRICES, abandonAfterHours: 24, clock: h.clock },
      { run_id: 'run-1', episodes: manifest },
    );
    expect(entries.map((e) => [e.episode_id, e.status])).toEqual([
      ['broken', 'error'],
      ['left-alone', 'graded'],
    ]);
    expect(entries[0]).toMatchObject({ tenant: 'tenant-b', error: expect.stringMatching(/^StorageError: .*broken/) });
    expect(entries[1]).toMatchObject({ ended: 'auto_submitted', ended_at: at(start, HOUR + 60_000) });
    expect(await h.items.batch.advance(first.until, 'run-1')).toBe(true);

    h.clock.set(at(start, 3 * HOUR));
    const second = foundOf(await h.find(10, { run_id: 'run-2', started_at: at(start, 3 * HOUR), request: { trigger: 'schedule' } }));
    expect(second.since).toBe(first.until);
    expect(await manifestOf(h.runtime.reports, second)).toEqual([line(endedLater)]);
    expect(second.counts).toEqual({ ended: 1, abandoned: 0, total: 1, carried_over: 0 });
  });
});

describe('a run that failed after auto-submitting', () => {
  const h = harness();
  const start = '2030-09-01T00:00:00.000Z';

  it('leaves its auto-submitted episodes to the run that takes its window over (it inherits the failed run)', async () => {
    const abandoned = activeEpisode('tenant-a', 'orphaned', '2030-08-20T00:00:00.000Z');
    await writeEpisodes(h.runtime, [abandoned]);
    h.clock.set(at(start, HOUR));
    await h.items.tenants.touch('tenant-a');
    await h.items.batch.advance(start, 'earlier');
    const first = foundOf(await h.find(10, { run_id: 'run-1', started_at: at(start, HOUR), request: { trigger: 'schedule' } }));
    h.clock.set(at(start, HOUR + 60_000));
    await gradeBatch({ episodes: h.runtime.episodes, items: h.items, prices: DEFAULT_PRICES, abandonAfterHours: 24, clock: h.clock }, { run_id: 'run-1', episodes: await manifestOf(h.runtime.reports, first) });
    // run-1 fails before write-report: its claim expires, and run-2 takes the window over.
    h.clock.set(at(start, 3 * HOUR));
    const second = foundOf(await h.find(10, { run_id: 'run-2', started_at: at(start, 3 * HOUR), request: { trigger: 'schedule' } }));
    expect(second.since).toBe(start);
    expect(await manifestOf(h.runtime.reports, second)).toEqual([line(abandoned)]); // ended now, by run-1's auto-submission
  });
});

describe('a manual run over a window of its choosing', () => {
  const h = harness();
  const start = '2030-10-01T00:00:00.000Z';

  it('re-grades that window only: it leaves the schedule window where it was and gives its claim back', async () => {
    await writeEpisodes(h.runtime, [endedEpisode('tenant-a', 'old', at(start, -HOUR))]);
    await h.items.batch.advance(at(start, 12 * HOUR), 'scheduled-run');
    h.clock.set(at(start, 13 * HOUR));
    const manual = foundOf(await h.find(10, { run_id: 'manual-1', started_at: at(start, 13 * HOUR), request: { trigger: 'manual', since: at(start, -2 * HOUR), until: start } }));
    expect(manual).toMatchObject({ advances_window: false, counts: { ended: 1 } });
    await writeReport({ reports: h.runtime.reports, prefix: 'reports/', items: h.items, prices: DEFAULT_PRICES, clock: h.clock }, { run_id: 'manual-1', found: manual, graded: {} });
    expect(await h.items.batch.get()).toMatchObject({ last_until: at(start, 12 * HOUR), last_run_id: 'scheduled-run', claim: null });
    // The next scheduled run is not held off, and starts where the schedule left off.
    const scheduled = foundOf(await h.find(10, { run_id: 'run-x', started_at: at(start, 13 * HOUR), request: { trigger: 'schedule' } }));
    expect(scheduled).toMatchObject({ since: at(start, 12 * HOUR), advances_window: true });
  });
});
