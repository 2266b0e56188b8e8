import type { Context } from 'aws-lambda';
import { batchSettingsFromEnv, findEpisodes, findEpisodesEventSchema, type FindEpisodesResult, itemsOf, Observability, parseEvent, traceStorage } from '../../layers/cloud/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * Batch run, step 1 (Step Functions task input `{"run_id", "started_at", "request"}`, where
 * `request` is the execution input, `{"trigger": "schedule"}` for the scheduled run):
 * claims the run window, then writes the manifest (JSON lines in REPORTS_BUCKET) of the
 * episodes ended since the last successful run (gsi_ended's shards) plus the active ones idle
 * for ABANDON_AFTER_HOURS (per tenant, gsi_tenant), at most MAX_EPISODES_PER_RUN; answers
 * with the manifest's location and counts only. A manual run may pass `since` and `until`
 * (ISO times) in its input; a continuation passes `{"trigger": "continuation"}`.
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
          reports: storage.reports,
          abandonAfterHours: settings.abandonAfterHours,
          maxEpisodes: settings.maxEpisodesPerRun,
          claimSeconds: settings.runTimeoutSeconds,
          retentionSeconds: storage.config.retentionSeconds,
          ...(clock ? { clock } : {}),
        },
        parseEvent(findEpisodesEventSchema, event),
      );
      if (result.status === 'busy') {
        obs.logger.warn('another run holds the window: this run ends without grading', { held_by: result.held_by, held_until: result.held_until });
        return result;
      }
      obs.count('EpisodesFound', result.counts.ended);
      obs.count('EpisodesAbandoned', result.counts.abandoned);
      obs.count('EpisodesCarriedOver', result.counts.carried_over);
      obs.logger.info('episodes found', { since: result.since, until: result.until, truncated: result.truncated, ...result.counts, manifest: result.manifest.key });
      return result;
    });
}

let configured: FindEpisodesHandler | undefined;

export async function handler(event: unknown, context: Context): Promise<FindEpisodesResult> {
  configured ??= createFindEpisodesHandler(() => ({ storage: createStorageFromEnv(process.env) }));
  return configured(event, context);
}
