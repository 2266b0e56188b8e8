import type { Context } from 'aws-lambda';
import { batchSettingsFromEnv, findEpisodes, findEpisodesEventSchema, type FindEpisodesResult, itemsOf, Observability, parseEvent, traceStorage } from '../../layers/cloud/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * Batch run, step 1 (Step Functions task input `{"run_id", "started_at", "request"}`, where
 * `request` is the execution input, `{"trigger": "schedule"}` for the scheduled run):
 * the episodes ended since the last successful run (gsi_ended) plus the active ones idle
 * for ABANDON_AFTER_HOURS (per tenant, gsi_tenant), at most MAX_EPISODES_PER_RUN.
 * A manual run may pass `since` and `until` (ISO times) in its input.
 */
export interface FindEpisodesHandlerDeps {
  storage: Storage;
  env?: NodeJS.ProcessEnv;
  clock?: () => Date;
}

export type FindEpisodesHandler = (event: unknown, context?: Context) => Promise<FindEpisodesResult>;

export function createFindEpisodesHandler(deps: FindEpisodesHandlerDeps | ((obs: Observability) => FindEpisodesHandlerDeps)): FindEpisodesHandler {
  const obs = new Observability('ml-trainer-batch');
  let resolved: FindEpisodesHandlerDeps | undefined;
  return (event: unknown, context?: Context) =>
    obs.invocation('find-episodes', context, async () => {
      if (!resolved) {
        resolved = typeof deps === 'function' ? deps(obs) : deps;
        traceStorage(resolved.storage, obs);
      }
      const { storage, clock } = resolved;
      const settings = batchSettingsFromEnv(resolved.env ?? process.env);
      const result = await findEpisodes(
        {
          episodes: storage.episodes,
          items: itemsOf(storage, clock),
          abandonAfterHours: settings.abandonAfterHours,
          maxEpisodes: settings.maxEpisodesPerRun,
          retentionSeconds: storage.config.retentionSeconds,
          ...(clock ? { clock } : {}),
        },
        parseEvent(findEpisodesEventSchema, event),
      );
      const abandoned = result.episodes.filter((e) => e.abandoned).length;
      obs.count('EpisodesFound', result.episodes.length - abandoned);
      obs.count('EpisodesAbandoned', abandoned);
      obs.logger.info('episodes found', { since: result.since, until: result.until, truncated: result.truncated, ended: result.episodes.length - abandoned, abandoned });
      return result;
    });
}

let configured: FindEpisodesHandler | undefined;

export async function handler(event: unknown, context: Context): Promise<FindEpisodesResult> {
  configured ??= createFindEpisodesHandler(() => ({ storage: createStorageFromEnv(process.env) }));
  return configured(event, context);
}
