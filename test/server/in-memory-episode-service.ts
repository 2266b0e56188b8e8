import { randomUUID } from 'node:crypto';
import { CoreError, createEpisode, executeStep, type EpisodeRecord, type TrainerFactory } from '../../layers/core/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import {
  EpisodeServiceError,
  stepView,
  type CreateEpisodeInput,
  type EpisodeService,
  type EpisodeSummary,
  type EpisodeUsage,
  type EpisodeView,
  type StepRequest,
  type StepView,
  type TenantId,
} from '../../layers/episodes/src/episode-service';

interface Stored {
  tenant: TenantId;
  episode_id: string;
  version: number;
  created_at: string;
  updated_at: string;
  record: EpisodeRecord;
  checkpoint: Uint8Array | null;
  usage: EpisodeUsage;
  results: Map<string, StepView>;
  busy: boolean;
}

/**
 * An EpisodeService in memory over the core and a trainer factory (the formula trainer by
 * default): for protocol tests that need no storage. Same contract as the stored service:
 * tenant scoping, request_id replay, in_progress while a step of the episode runs.
 */
export class InMemoryEpisodeService implements EpisodeService {
  private readonly episodes = new Map<string, Stored>();
  /** Set to make the next step throw (a trainer fault), to test 5xx handling. */
  failNextStep: Error | null = null;
  /** Set to make steps wait for this promise before executing (to test in_progress). */
  stepGate: Promise<void> | null = null;

  constructor(private readonly trainers: TrainerFactory = formulaTrainerFactory) {}

  async createEpisode(input: CreateEpisodeInput): Promise<EpisodeView> {
    let record: EpisodeRecord;
    try {
      record = createEpisode(input.taskId, input.seed, input.agent);
    } catch (e) {
      if (e instanceof CoreError) throw new EpisodeServiceError('invalid_request', e.message, { ...e.toInfo() });
      throw e;
    }
    const now = new Date().toISOString();
    const stored: Stored = {
      tenant: input.tenant,
      episode_id: randomUUID(),
      version: 0,
      created_at: now,
      updated_at: now,
      record,
      checkpoint: null,
      usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
      results: new Map(),
      busy: false,
    };
    this.episodes.set(stored.episode_id, stored);
    return view(stored);
  }

  async getEpisode(tenant: TenantId, episodeId: string): Promise<EpisodeView> {
    return view(this.load(tenant, episodeId));
  }

  async listEpisodes(tenant: TenantId, options: { limit?: number; cursor?: string } = {}): Promise<{ items: EpisodeSummary[]; cursor: string | null }> {
    const all = [...this.episodes.values()].filter((e) => e.tenant === tenant).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    const start = options.cursor === undefined ? 0 : Number(options.cursor);
    if (!Number.isInteger(start) || start < 0) throw new EpisodeServiceError('invalid_request', 'Invalid cursor.', { field: 'cursor' });
    const limit = options.limit ?? 20;
    const page = all.slice(start, start + limit);
    return { items: page.map(summary), cursor: start + limit < all.length ? String(start + limit) : null };
  }

  async step(request: StepRequest): Promise<StepView> {
    const stored = this.load(request.tenant, request.episodeId);
    if (request.requestId !== undefined) {
      const replay = stored.results.get(request.requestId);
      if (replay) return { ...replay, replayed: true };
    }
    if (stored.busy) throw new EpisodeServiceError('in_progress', `A step of episode ${stored.episode_id} is running; retry when it ends.`);
    stored.busy = true;
    try {
      if (this.stepGate) await this.stepGate;
      if (this.failNextStep) {
        const fault = this.failNextStep;
        this.failNextStep = null;
        throw fault;
      }
      const spec = { taskId: stored.record.task_id, seed: stored.record.seed };
      const trainer = stored.checkpoint ? await this.trainers.restore(spec, stored.checkpoint) : await this.trainers.create(spec);
      let epochs = 0;
      let seconds = 0;
      try {
        const result = await executeStep(stored.record, request.call, trainer, {
          onEpoch: (p) => {
            epochs += 1;
            seconds += p.seconds;
            request.onEpoch?.(p);
          },
        });
        const committed = stored.record.status === 'active';
        if (committed) {
          stored.record = result.record;
          stored.checkpoint = await trainer.saveCheckpoint();
          stored.version += 1;
          stored.updated_at = new Date().toISOString();
          stored.usage = { steps: stored.usage.steps + 1, epochs_trained: stored.usage.epochs_trained + epochs, training_seconds: stored.usage.training_seconds + seconds };
        }
        const view = stepView(stored.episode_id, stored.version, result);
        if (committed && request.requestId !== undefined) stored.results.set(request.requestId, view);
        return view;
      } finally {
        trainer.dispose();
      }
    } finally {
      stored.busy = false;
    }
  }

  private load(tenant: TenantId, episodeId: string): Stored {
    const stored = this.episodes.get(episodeId);
    if (!stored || stored.tenant !== tenant) throw new EpisodeServiceError('not_found', `No episode ${JSON.stringify(episodeId)}.`, { episode_id: episodeId });
    return stored;
  }
}

function summary(e: Stored): EpisodeSummary {
  return {
    episode_id: e.episode_id,
    tenant: e.tenant,
    task_id: e.record.task_id,
    seed: e.record.seed,
    status: e.record.status,
    step_count: e.record.step_count,
    best_val_accuracy: e.record.model.best_val_accuracy,
    score: e.record.grade?.score ?? null,
    agent: e.record.agent ?? null,
    version: e.version,
    created_at: e.created_at,
    updated_at: e.updated_at,
  };
}

function view(e: Stored): EpisodeView {
  return { ...summary(e), record: structuredClone(e.record), usage: { ...e.usage } };
}
