import { z } from 'zod';
import {
  AgentEnvironmentError,
  LlmApiError,
  modelCostUsd,
  playEpisode,
  RestEnvironment,
  type AgentEnvironment,
  type EpisodeSession,
  type EvalEpisode,
  type ModelPrices,
  type PlannedEpisode,
  type Policy,
} from '../layers/agent/src';
import { DatasetUnavailableError, parseEpisodeRecord, type AgentLabel, type EpisodeRecord, type EpochProgress } from '../layers/core/src';
import { DatasetError } from '../layers/datasets/src';
import { UsageError } from './command';

/** One played episode: what the eval keeps, and the record for its report (null when it could not be read). */
export interface PlayedEvalEpisode {
  episode: EvalEpisode;
  record: EpisodeRecord | null;
}

export interface EvalRunnerOptions {
  environment: AgentEnvironment;
  policy: Policy;
  agent: AgentLabel;
  prices?: ModelPrices;
}

const remoteEpisodeSchema = z.object({ record: z.unknown(), usage: z.object({ training_seconds: z.number().finite().min(0) }).partial().optional() });

/**
 * Plays one planned episode and reduces it to an EvalEpisode. Training seconds: in-process
 * the sum of the epochs' own timings; against a server its GET /v1/episodes/{id} usage. A
 * failure of the episode (a model API error, a trainer fault) comes back as a failed
 * episode; a failure of the environment itself (unreachable, refused credentials, missing
 * datasets) is thrown: every other episode would fail the same way.
 */
export function evalEpisodeRunner(options: EvalRunnerOptions) {
  return async (planned: PlannedEpisode, onEpoch: (progress: EpochProgress) => void): Promise<PlayedEvalEpisode> => {
    let session: EpisodeSession | undefined;
    let trainingSeconds = 0;
    try {
      const result = await playEpisode({
        environment: options.environment,
        policy: options.policy,
        agent: options.agent,
        taskId: planned.task_id,
        seed: planned.seed,
        onStart: (s) => (session = s),
        onEpoch: (progress) => {
          trainingSeconds += progress.seconds;
          onEpoch(progress);
        },
      });
      const facts = await episodeFacts(options.environment, session!, trainingSeconds);
      const model = facts.record?.model;
      return {
        record: facts.record,
        episode: {
          task_id: planned.task_id,
          seed: planned.seed,
          episode_id: result.episode_id,
          score: result.grade?.score ?? null,
          status: result.status,
          epochs_used: result.epochs_used,
          steps: result.steps,
          training_seconds: facts.trainingSeconds,
          ...(result.model_usage ? { model_usage: result.model_usage } : {}),
          model_cost_usd: modelCostUsd(result.model_usage, options.prices),
          val_accuracy: model?.val_acc_history ?? [],
          val_loss: model?.val_loss_history ?? [],
        },
      };
    } catch (error) {
      if (failsEveryEpisode(error)) throw error;
      return { record: null, episode: failedEpisode(planned, session?.episodeId ?? '', error, options.prices) };
    }
  };
}

/** Refused credentials, an unknown model, a server that is gone, missing datasets: the next episode would fail the same way. */
function failsEveryEpisode(error: unknown): boolean {
  if (error instanceof UsageError || error instanceof DatasetUnavailableError || error instanceof DatasetError) return true;
  if (error instanceof LlmApiError) return error.status === 401 || error.status === 403 || error.status === 404;
  if (!(error instanceof AgentEnvironmentError)) return false;
  return error.code === 'unavailable' || error.info.status === 401 || error.info.status === 403;
}

/** A failed episode; what a model spent before the failure still counts (--max-cost). */
function failedEpisode(planned: PlannedEpisode, episodeId: string, error: unknown, prices: ModelPrices | undefined): EvalEpisode {
  const usage = error instanceof LlmApiError ? error.usage : undefined;
  return {
    task_id: planned.task_id,
    seed: planned.seed,
    episode_id: episodeId,
    score: null,
    status: 'failed',
    epochs_used: 0,
    steps: 0,
    training_seconds: null,
    ...(usage ? { model_usage: usage } : {}),
    model_cost_usd: modelCostUsd(usage, prices),
    val_accuracy: [],
    val_loss: [],
    error: (error as Error)?.message ?? String(error),
  };
}

/** The finished episode's record and training seconds; a server's answer that cannot be read leaves them unknown. */
async function episodeFacts(environment: AgentEnvironment, session: EpisodeSession, localSeconds: number): Promise<{ record: EpisodeRecord | null; trainingSeconds: number | null }> {
  if (!(environment instanceof RestEnvironment)) {
    return { record: await session.readRecord(), trainingSeconds: Math.round(localSeconds * 1000) / 1000 };
  }
  const body = remoteEpisodeSchema.safeParse(await environment.request({ method: 'GET', path: `/v1/episodes/${encodeURIComponent(session.episodeId)}` }));
  if (!body.success) return { record: null, trainingSeconds: null };
  let record: EpisodeRecord | null = null;
  try {
    record = parseEpisodeRecord(body.data.record);
  } catch {
    record = null;
  }
  return { record, trainingSeconds: body.data.usage?.training_seconds ?? null };
}
