import type { Context } from 'aws-lambda';
import {
  batchSettingsFromEnv,
  gradeBatch,
  gradeBatchEventSchema,
  itemsOf,
  Observability,
  parseEvent,
  pricesFromEnv,
  type ReportEntry,
  traceStorage,
} from '../../layers/cloud/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * Batch run, step 2: one child workflow of the distributed map (`{"run_id", "episodes": [{"tenant",
 * "episode_id", "abandoned"}]}`, a batch of the manifest's lines): auto-submits the abandoned
 * episodes (ABANDON_AFTER_HOURS), grades each from its stored record, and answers with one
 * report entry per episode, labelled with its agent and priced with PRICE_*. The map's
 * ResultWriter flattens the answers into its result files.
 */
export interface GradeBatchHandlerDeps {
  storage: Storage;
  env?: NodeJS.ProcessEnv;
  clock?: () => Date;
}

export type GradeBatchHandler = (event: unknown, context?: Context) => Promise<ReportEntry[]>;

export function createGradeBatchHandler(deps: GradeBatchHandlerDeps | ((obs: Observability) => GradeBatchHandlerDeps)): GradeBatchHandler {
  const obs = new Observability('ml-trainer-batch');
  let resolved: GradeBatchHandlerDeps | undefined;
  return (event: unknown, context?: Context) =>
    obs.invocation('grade-batch', context, async () => {
      if (!resolved) {
        resolved = typeof deps === 'function' ? deps(obs) : deps;
        traceStorage(resolved.storage, obs);
      }
      const { storage, clock } = resolved;
      const env = resolved.env ?? process.env;
      const input = parseEvent(gradeBatchEventSchema, event);
      const entries = await gradeBatch(
        {
          episodes: storage.episodes,
          items: itemsOf(storage, clock),
          prices: pricesFromEnv(env),
          abandonAfterHours: batchSettingsFromEnv(env).abandonAfterHours,
          ...(clock ? { clock } : {}),
        },
        input,
      );
      const byStatus = new Map<string, number>();
      for (const e of entries) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
      for (const [status, n] of byStatus) obs.count(`Grade_${status}`, n);
      obs.logger.info('batch graded', { run_id: input.run_id, episodes: entries.length, ...Object.fromEntries(byStatus) });
      return entries;
    });
}

let configured: GradeBatchHandler | undefined;

export async function handler(event: unknown, context: Context): Promise<ReportEntry[]> {
  configured ??= createGradeBatchHandler(() => ({ storage: createStorageFromEnv(process.env) }));
  return configured(event, context);
}
