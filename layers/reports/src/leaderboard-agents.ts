import { z } from 'zod';
import { UNLABELLED_AGENT } from '../../core/src';

/**
 * The leaderboard grouped by agent: one row per agent key (agentLabelKey; episodes without a
 * label under "unlabelled") with its episodes, mean and best score and its best episode. One
 * episode says little (scores vary with the seed), so agents are ranked by their mean score.
 */

export const LEADERBOARD_GROUPINGS = ['agent', 'episode'] as const;

/** The `group` choice of a leaderboard page (a query parameter): by agent (default) or by episode. */
export const leaderboardGroupingSchema = z.enum(LEADERBOARD_GROUPINGS, { error: `must be one of: ${LEADERBOARD_GROUPINGS.join(', ')}` }).default('agent');

export type LeaderboardGrouping = z.output<typeof leaderboardGroupingSchema>;

/** What grouping needs of a leaderboard entry (LeaderboardEntry has it; declared here so the two files do not import each other). */
export interface AgentEntry {
  episode_id: string;
  agent?: string | null;
  score: number | null;
  report_href?: string | null;
}

export interface AgentStanding {
  /** The agent key ("llm gpt-4o-mini @v3", "unlabelled"). */
  agent: string;
  /** 1-based by mean score; equal mean and best share a rank; null for an agent without a graded episode. */
  rank: number | null;
  episodes: number;
  graded: number;
  mean: number | null;
  best: number | null;
  /** Its best-scoring episode (ties: the lower episode id); null when none is graded. */
  best_episode: { episode_id: string; report_href: string | null } | null;
}

/** The key an entry is grouped under. */
export function entryAgentKey(entry: Pick<AgentEntry, 'agent'>): string {
  return entry.agent === null || entry.agent === undefined || entry.agent === '' ? UNLABELLED_AGENT : entry.agent;
}

const graded = (e: AgentEntry): e is AgentEntry & { score: number } => e.score !== null && Number.isFinite(e.score);

/**
 * One agent's standing, built one entry at a time (what it keeps does not grow with its
 * episodes): a running count, sum and best. The mean sums the scores in the order they come.
 */
export class AgentTally {
  private episodes = 0;
  private graded = 0;
  private sum = 0;
  private best: { score: number; episode_id: string; report_href: string | null } | null = null;

  constructor(readonly agent: string) {}

  add(entry: AgentEntry): void {
    this.episodes += 1;
    if (!graded(entry)) return;
    this.graded += 1;
    this.sum += entry.score;
    const best = this.best;
    if (best === null || entry.score > best.score || (entry.score === best.score && entry.episode_id < best.episode_id)) {
      this.best = { score: entry.score, episode_id: entry.episode_id, report_href: entry.report_href ?? null };
    }
  }

  standing(): Omit<AgentStanding, 'rank'> {
    const best = this.best;
    return {
      agent: this.agent,
      episodes: this.episodes,
      graded: this.graded,
      mean: this.graded === 0 ? null : this.sum / this.graded,
      best: best?.score ?? null,
      best_episode: best === null ? null : { episode_id: best.episode_id, report_href: best.report_href },
    };
  }
}

/** One task's entries per agent, ranked (rankAgentStandings). */
export function agentStandings(entries: readonly AgentEntry[]): AgentStanding[] {
  const byAgent = new Map<string, AgentTally>();
  for (const entry of entries) {
    const key = entryAgentKey(entry);
    const tally = byAgent.get(key) ?? new AgentTally(key);
    tally.add(entry);
    byAgent.set(key, tally);
  }
  return rankAgentStandings([...byAgent.values()].map((t) => t.standing()));
}

/** Mean score (desc), then best, then more graded episodes, then the key; agents without a graded episode last. */
export function rankAgentStandings(standings: readonly Omit<AgentStanding, 'rank'>[]): AgentStanding[] {
  const value = (v: number | null) => v ?? -1;
  const rows = [...standings].sort(
    (a, b) =>
      Number(a.mean === null) - Number(b.mean === null) ||
      value(b.mean) - value(a.mean) ||
      value(b.best) - value(a.best) ||
      b.graded - a.graded ||
      (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0),
  );
  const ranked: AgentStanding[] = [];
  rows.forEach((row, i) => {
    const previous = ranked[i - 1];
    const tie = previous !== undefined && row.mean !== null && previous.mean === row.mean && previous.best === row.best;
    ranked.push({ ...row, rank: row.mean === null ? null : tie ? previous.rank : i + 1 });
  });
  return ranked;
}
