import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { eventText, type GradeRequest, type GradeResult, gradeStoredEpisode, Observability, parseEvent, traceStorage } from '../../layers/cloud/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * The grade Lambda: grades a stored episode from its record and records that it did
 * (idempotent; layers/cloud/src/grading.ts). Invoked by the api Lambda when an episode ends
 * (`{"source": "api", "tenant", "episode_id"}`) and by the batch run
 * (`{"source": "batch", "run_id", "tenant", "episode_id"}`). Its answer is one entry of
 * the batch report.
 */
/** The grade Lambda's event; `source` and `run_id` only say who graded (`graded_by`). */
export const gradeEventSchema: z.ZodType<GradeRequest> = z.object({
  tenant: eventText,
  episode_id: eventText,
  source: z.string({ error: 'a string' }).optional(),
  run_id: z.string({ error: 'a string' }).optional(),
});

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
      const request = parseEvent(gradeEventSchema, event);
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
