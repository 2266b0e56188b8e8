import { z } from 'zod';
import { AgentEnvironmentError, type RestEnvironment } from '../layers/agent/src';

/** What the server says the tenant's episodes in a time window cost. */
export interface ServerCost {
  total_usd: number;
  episodes: number;
  per_episode_usd: number;
  tenant: string;
}

const usageSchema = z.object({
  tenant: z.string(),
  episodes: z.number().int().min(0),
  estimated_cost: z.object({ total_usd: z.number().finite().min(0) }),
});

/**
 * GET /v1/usage over the eval's window (the cloud API; the local server has no such route
 * and answers 404, so: null). It counts every episode the tenant created in the window,
 * whoever played it.
 */
export async function serverCost(environment: RestEnvironment, from: Date, to: Date): Promise<ServerCost | null> {
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  let body: unknown;
  try {
    body = await environment.request({ method: 'GET', path: `/v1/usage?${query}` });
  } catch (error) {
    if (error instanceof AgentEnvironmentError && error.code === 'rejected') return null;
    throw error;
  }
  const usage = usageSchema.safeParse(body);
  if (!usage.success || usage.data.episodes === 0) return null;
  const { total_usd } = usage.data.estimated_cost;
  return { total_usd, episodes: usage.data.episodes, per_episode_usd: total_usd / usage.data.episodes, tenant: usage.data.tenant };
}
