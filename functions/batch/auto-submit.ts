import type { Context } from 'aws-lambda';
import { autoSubmitEpisode, autoSubmitEventSchema, type AutoSubmitResult, batchSettingsFromEnv, Observability, parseEvent, traceStorage } from '../../layers/cloud/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * Batch run, step 2a (`{"run_id", "tenant", "episode_id"}`, for episodes find-episodes
 * marked abandoned): ends the episode as the core's step limit would (auto_submitted,
 * graded on the current model's best accuracy) by a conditional update of the stored record.
 * No trainer is involved. An episode that ended or was used again meanwhile is left alone.
 */
export interface AutoSubmitHandlerDeps {
  storage: Storage;
  env?: NodeJS.ProcessEnv;
  clock?: () => Date;
}

export type AutoSubmitHandler = (event: unknown, context?: Context) => Promise<AutoSubmitResult>;

export function createAutoSubmitHandler(deps: AutoSubmitHandlerDeps | ((obs: Observability) => AutoSubmitHandlerDeps)): AutoSubmitHandler {
  const obs = new Observability('ml-trainer-batch');
  let resolved: AutoSubmitHandlerDeps | undefined;
  return (event: unknown, context?: Context) =>
    obs.invocation('auto-submit', context, async () => {
      if (!resolved) {
        resolved = typeof deps === 'function' ? deps(obs) : deps;
        traceStorage(resolved.storage, obs);
      }
      const { storage, clock } = resolved;
      const result = await autoSubmitEpisode(
        {
          episodes: storage.episodes,
          abandonAfterHours: batchSettingsFromEnv(resolved.env ?? process.env).abandonAfterHours,
          ...(clock ? { clock } : {}),
        },
        parseEvent(autoSubmitEventSchema, event),
      );
      obs.count(`AutoSubmit_${result.status}`);
      obs.logger.info('auto-submit', { ...result });
      return result;
    });
}

let configured: AutoSubmitHandler | undefined;

export async function handler(event: unknown, context: Context): Promise<AutoSubmitResult> {
  configured ??= createAutoSubmitHandler(() => ({ storage: createStorageFromEnv(process.env) }));
  return configured(event, context);
}
