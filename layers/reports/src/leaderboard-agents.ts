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

function standingOf(agent: string, entries: readonly AgentEntry[]): Omit<AgentStanding, 'rank'> {
  const scored = entries.filter(graded);
  const best = [...scored].sort((a, b) => b.score - a.score || (a.episode_id < b.episode_id ? -1 : a.episode_id > b.episode_id ? 1 : 0))[0];
  return {
    agent,
    episodes: entries.length,
    graded: scored.length,
    mean: scored.length === 0 ? null : scored.reduce((sum, e) => sum + e.score, 0) / scored.length,
    best: best?.score ?? null,
    best_episode: best === undefined ? null : { episode_id: best.episode_id, report_href: best.report_href ?? null },
  };
}

/** One task's entries per agent, ranked: mean score (desc), then best, then more graded episodes, then the key; agents without a graded episode last. */
export function agentStandings(entries: readonly AgentEntry[]): AgentStanding[] {
  const byAgent = new Map<string, AgentEntry[]>();
  for (const entry of entries) {
    const key = entryAgentKey(entry);
    byAgent.set(key, [...(byAgent.get(key) ?? []), entry]);
  }
  const rows = [...byAgent].map(([agent, mine]) => standingOf(agent, mine));
  const value = (v: number | null) => v ?? -1;
  rows.sort(
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
