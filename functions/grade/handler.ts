import type { Context } from 'aws-lambda';
import { gradeStoredEpisode, type GradeResult } from '../../layers/cloud/src/grading';
import { requireString, traceStorage } from '../../layers/cloud/src/handler-support';
import { Observability } from '../../layers/cloud/src/powertools';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * The grade Lambda: grades a stored episode from its record and records that it did
 * (idempotent; layers/cloud/src/grading.ts). Invoked by the api Lambda when an episode ends
 * (`{"source": "api", "tenant", "episode_id"}`) and by the batch run
 * (`{"source": "batch", "run_id", "tenant", "episode_id"}`). Its answer is one entry of
 * the batch report.
 */
export interface GradeHandlerDeps {
  storage: Storage;
  clock?: () => Date;
}

export type GradeHandler = (event: unknown, context?: Context) => Promise<GradeResult>;

export function createGradeHandler(deps: GradeHandlerDeps | ((obs: Observability) => GradeHandlerDeps)): GradeHandler {
  const obs = new Observability('ml-trainer-grade');
  let resolved: GradeHandlerDeps | undefined;
  return (event: unknown, context?: Context) =>
    obs.invocation('grade', context, async () => {
      if (!resolved) {
        resolved = typeof deps === 'function' ? deps(obs) : deps;
        traceStorage(resolved.storage, obs);
      }
      const e = event as { source?: unknown; run_id?: unknown };
      const request = {
        tenant: requireString(event, 'tenant'),
        episode_id: requireString(event, 'episode_id'),
        ...(typeof e.source === 'string' ? { source: e.source } : {}),
        ...(typeof e.run_id === 'string' ? { run_id: e.run_id } : {}),
      };
      const result = await gradeStoredEpisode(
        {
          episodes: resolved.storage.episodes,
          ...(resolved.clock ? { clock: resolved.clock } : {}),
        },
        request,
      );
      obs.count(`Grade_${result.status}`);
      if (result.status === 'grade_mismatch') {
        obs.logger.error('the recomputed grade differs from the recorded one', { ...result });
      } else {
        obs.logger.info('graded', { ...result, source: request.source ?? 'unknown' });
      }
      return result;
    });
}

let configured: GradeHandler | undefined;

export async function handler(event: unknown, context: Context): Promise<GradeResult> {
  configured ??= createGradeHandler(() => ({ storage: createStorageFromEnv(process.env) }));
  return configured(event, context);
}
