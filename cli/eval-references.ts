import { baselinePolicy, defaultPolicy, runScheduled, type AgentEnvironment, type EvalEpisode, type PlannedEpisode, type Policy } from '../layers/agent/src';
import type { ReferenceScoreCache } from './eval-cache';
import type { evalProgressPrinter } from './eval-progress';
import { evalEpisodeRunner, type PlayedEvalEpisode } from './eval-runner';

/** The policies an eval compares with (--compare). */
export const REFERENCE_POLICIES = ['default', 'baseline'] as const;
export type ReferencePolicy = (typeof REFERENCE_POLICIES)[number];

/** Reference scores by policy, then task, then seed. */
export type ReferenceScores = Map<ReferencePolicy, Map<string, Map<number, number>>>;

const referencePolicy = (name: ReferencePolicy): Policy => (name === 'baseline' ? baselinePolicy() : defaultPolicy);

/** Cache entries for the scored episodes of a reference policy. */
export function cacheEntries(episodes: readonly EvalEpisode[], policy: string, version: string) {
  return episodes
    .filter((e): e is EvalEpisode & { score: number } => e.score !== null)
    .map((e) => ({ key: { task_id: e.task_id, seed: e.seed, policy, trainer_version: version }, score: { score: e.score, epochs_used: e.epochs_used, steps: e.steps } }));
}

/**
 * The reference policies' scores on the seeds this eval scored, by task then seed: from the
 * cache, the missing ones played now (same environment and concurrency) and cached.
 */
export async function playReferences(
  setup: { references: readonly ReferencePolicy[]; concurrency: number },
  episodes: readonly EvalEpisode[],
  environment: AgentEnvironment,
  cache: ReferenceScoreCache,
  version: string,
  progress: ReturnType<typeof evalProgressPrinter>,
): Promise<ReferenceScores> {
  const scored = episodes.filter((e) => e.score !== null);
  const byPolicy: ReferenceScores = new Map();
  for (const name of setup.references) {
    const key = (p: PlannedEpisode) => ({ task_id: p.task_id, seed: p.seed, policy: name, trainer_version: version });
    const missing = scored.filter((e) => cache.get(key(e)) === undefined).map((e) => ({ task_id: e.task_id, seed: e.seed }));
    if (missing.length > 0) {
      progress.note(`playing the ${name} policy on ${missing.length} seeds for the comparison (cached for later evals in ${cache.path})`);
      const outcome = await runScheduled<PlayedEvalEpisode>({
        episodes: missing,
        concurrency: setup.concurrency,
        run: evalEpisodeRunner({ environment, policy: referencePolicy(name), agent: { policy: name } }),
        onEvent: (event) => progress.event(event, `reference ${name}`),
      });
      await cache.put(cacheEntries(outcome.results.map((r) => r.result.episode), name, version));
    }
    const scores = new Map<string, Map<number, number>>();
    for (const e of scored) {
      const hit = cache.get(key(e));
      if (hit === undefined) continue;
      if (!scores.has(e.task_id)) scores.set(e.task_id, new Map());
      scores.get(e.task_id)!.set(e.seed, hit.score);
    }
    byPolicy.set(name, scores);
  }
  return byPolicy;
}

