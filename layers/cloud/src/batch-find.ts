import { Readable } from 'node:stream';
import { z } from 'zod';
import type { BlobStore, EndedEpisodeRef, EpisodeStore } from '../../storage/src';
import { batchRunManifestKey } from './batch-files';
import { eventText, eventTime } from './lambda-event';
import type { CloudItems } from './table-items';

/**
 * The batch run's first step (functions/README.md, "Batch run"): claims the run window, then
 * streams the episodes ended in it (the sharded end-time index, oldest first) and the
 * abandoned active ones into a JSON-lines manifest in the reports bucket, which the state
 * machine's distributed map reads. Only the manifest's location and counts go back into the
 * state: its size does not grow with the number of episodes.
 */

/** find-episodes' event (Step Functions task input `{"run_id", "started_at", "request"}`). */
export const findEpisodesEventSchema = z.object({
  run_id: eventText,
  started_at: eventTime,
  /**
   * The execution input: `{"trigger": "schedule"}`, a manual run's `{"trigger": "manual", "since"?, "until"?}`,
   * or a continuation's `{"trigger": "continuation", "parent_run_id"}`.
   */
  request: z
    .object(
      { trigger: z.string({ error: 'a string' }).max(64, { error: 'at most 64 characters' }).optional(), since: eventTime, until: eventTime, parent_run_id: eventText.optional() },
      { error: 'an object' },
    )
    .nullish(),
});

export type FindEpisodesEvent = z.output<typeof findEpisodesEventSchema>;

/** One line of the manifest: one episode for the distributed map to grade. */
export interface FoundEpisode {
  tenant: string;
  episode_id: string;
  abandoned: boolean;
}

export interface FindEpisodesCounts {
  ended: number;
  abandoned: number;
  total: number;
  /** Ended episodes of the window left for the continuation (0 unless truncated). */
  carried_over: number;
}

export type FindEpisodesResult =
  | {
      status: 'found';
      since: string;
      until: string;
      /** The run stopped at its safety cap: it starts a continuation when it ends. */
      truncated: boolean;
      /** Whether the manifest holds any episode (the state machine skips the map otherwise). */
      has_episodes: boolean;
      /**
       * Whether write-report moves the schedule's window on to `until`: not for a manual run over
       * a window it chose (`since` or `until` in its input), which re-grades that window only.
       */
      advances_window: boolean;
      counts: FindEpisodesCounts;
      manifest: { bucket: string; key: string };
    }
  /** Another run holds the window: this one ends without grading or reporting. */
  | { status: 'busy'; held_by: string; held_until: string; has_episodes: false };

export interface FindEpisodesDeps {
  episodes: EpisodeStore;
  items: CloudItems;
  reports: BlobStore;
  abandonAfterHours: number;
  maxEpisodes: number;
  /** The first run (no state yet) looks back this far: the episodes' retention. */
  retentionSeconds: number;
  /** How long a run may hold its window (the state machine's timeout). */
  claimSeconds: number;
  clock?: () => Date;
}

/** An eventTime's Date. */
function dateOf(time: string | undefined): Date | null {
  return time === undefined ? null : new Date(time);
}

export async function findEpisodes(deps: FindEpisodesDeps, event: FindEpisodesEvent): Promise<FindEpisodesResult> {
  const clock = deps.clock ?? (() => new Date());
  const request = event.request ?? {};
  const claim = await deps.items.batch.claim(event.run_id, new Date(clock().getTime() + deps.claimSeconds * 1000));
  if (!claim.claimed) return { status: 'busy', held_by: claim.holder.run_id, held_until: claim.holder.expires_at, has_episodes: false };
  // A run (a continuation too) covers up to its own execution's start.
  const until = dateOf(request.until) ?? dateOf(event.started_at) ?? clock();
  const last = claim.state?.last_until;
  const since = dateOf(request.since) ?? (last ? new Date(last) : new Date(until.getTime() - deps.retentionSeconds * 1000));
  const max = Math.max(1, Math.floor(deps.maxEpisodes));
  const selection = new ManifestSelection(max);
  if (since.getTime() < until.getTime()) {
    // An episode a run auto-submitted was reported by that run, unless that run failed: this one inherited it.
    const ours = new Set([event.run_id, ...(claim.state?.claim?.inherited ?? [])]);
    selection.ended = endedOfRuns(deps.episodes.endedEpisodes(since, until), ours);
  }
  const key = batchRunManifestKey(event.run_id);
  await deps.reports.put(key, Readable.from(selection.lines((room) => abandonedEpisodes(deps, until, room))), { contentType: 'application/x-ndjson' });
  const cut = selection.cut;
  const carried = cut === null ? 0 : await deps.episodes.countEnded(new Date(cut), until);
  const counts: FindEpisodesCounts = { ended: selection.endedCount, abandoned: selection.abandonedCount, total: selection.endedCount + selection.abandonedCount, carried_over: carried };
  return {
    status: 'found',
    since: since.toISOString(),
    until: cut ?? until.toISOString(),
    truncated: selection.truncated,
    has_episodes: counts.total > 0,
    advances_window: request.since === undefined && request.until === undefined,
    counts,
    manifest: { bucket: deps.reports.bucket, key },
  };
}

async function* endedOfRuns(ended: AsyncIterable<EndedEpisodeRef>, runs: ReadonlySet<string>): AsyncGenerator<EndedEpisodeRef> {
  for await (const episode of ended) if (episode.auto_submitted_by === undefined || runs.has(episode.auto_submitted_by)) yield episode;
}

/** Each tenant's idle active episodes (the gsi_tenant index), at most `room()` more at each read (room: what the cap leaves). */
async function* abandonedEpisodes(deps: FindEpisodesDeps, until: Date, room: () => number): AsyncGenerator<FoundEpisode> {
  const idleSince = new Date(until.getTime() - deps.abandonAfterHours * 3_600_000);
  for (const tenant of await deps.items.tenants.list()) {
    // One more than fits tells the selection that the cap was reached.
    for (const e of await deps.episodes.listIdleActive(tenant, idleSince, { limit: room() + 1 })) yield { tenant, episode_id: e.episode_id, abandoned: true };
  }
}

/**
 * Which episodes a run takes, as lines of the manifest, in one pass with bounded memory. At
 * the cap, the run stops before the first ended episode it leaves out, so that the next run
 * (from this run's until) starts with it: episodes that ended in the same millisecond are
 * held back together, and dropped together when the cap falls among them. Only when more
 * than the cap ended within one millisecond does the run take the cap of them and move one
 * millisecond past them (the rest of that millisecond is then never graded by a run; the
 * API's own grading of each ended episode still happened).
 */
class ManifestSelection {
  ended: AsyncIterable<EndedEpisodeRef> = (async function* () {})();
  endedCount = 0;
  abandonedCount = 0;
  truncated = false;
  /** Where the run's window ends when truncated (ISO time); null: the requested until. */
  cut: string | null = null;

  constructor(private readonly max: number) {}

  async *lines(abandoned: (room: () => number) => AsyncGenerator<FoundEpisode>): AsyncGenerator<string> {
    let group: EndedEpisodeRef[] = [];
    for await (const episode of this.ended) {
      if (group.length > 0 && episode.ended_at !== group[0]!.ended_at) {
        yield this.take(group);
        group = [];
      }
      if (this.endedCount + group.length === this.max) {
        this.truncated = true;
        if (this.endedCount === 0) {
          yield this.take(group);
          this.cut = new Date(Date.parse(episode.ended_at) + 1).toISOString();
        } else {
          this.cut = group[0]?.ended_at ?? episode.ended_at;
        }
        return; // abandoned episodes wait for the continuation too
      }
      group.push(episode);
    }
    if (group.length > 0) yield this.take(group);
    yield* this.abandonedLines(abandoned(() => this.max - this.endedCount - this.abandonedCount));
  }

  private take(group: EndedEpisodeRef[]): string {
    this.endedCount += group.length;
    return group.map((e) => lineOf({ tenant: e.tenant, episode_id: e.episode_id, abandoned: false })).join('');
  }

  private async *abandonedLines(episodes: AsyncGenerator<FoundEpisode>): AsyncGenerator<string> {
    for await (const episode of episodes) {
      if (this.endedCount + this.abandonedCount === this.max) {
        this.truncated = true; // the rest stay active and idle: the continuation finds them
        return;
      }
      this.abandonedCount += 1;
      yield lineOf(episode);
    }
  }
}

function lineOf(episode: FoundEpisode): string {
  return `${JSON.stringify(episode)}\n`;
}
