import { boundedReason, type AgentLabel, type EpochProgress } from '../../core/src';
import type { EpisodeService, StepRequest, StepView, TenantId } from '../../episodes/src';
import { classifyFailure } from './failure';

/**
 * What the dashboard hears about: episodes created and steps executed by ANY client of this
 * server (OpenEnv, MCP, REST), with every epoch of a training step as it finishes. In-process
 * only: a server sees its own steps, not those of another process on the same store.
 */
export type DashboardEvent =
  | { type: 'episode_created'; tenant: TenantId; episode_id: string; task_id: string; agent: AgentLabel | null }
  | {
      type: 'step_started';
      tenant: TenantId;
      episode_id: string;
      run: number;
      tool: string;
      /** The agent's reason for the call (bounded as the record stores it); null for none. */
      reason: string | null;
    }
  | { type: 'epoch'; tenant: TenantId; episode_id: string; run: number; tool: string; progress: EpochProgress }
  | {
      type: 'step_ended';
      tenant: TenantId;
      episode_id: string;
      run: number;
      tool: string;
      /** False when the service refused or failed the request (nothing was committed). */
      ok: boolean;
      step: number | null;
      done: boolean;
      error_code: string | null;
      /** Why the request failed (the message its caller got); null when ok. */
      error_message: string | null;
    };

export type DashboardListener = (event: DashboardEvent) => void;

interface Subscription {
  tenant: TenantId;
  episodeId: string | null;
  listener: DashboardListener;
}

interface InFlight {
  started: DashboardEvent;
  epochs: DashboardEvent[];
}

/** Bounded: a step trains at most 20 epochs; this keeps a broken producer from growing memory. */
const MAX_BUFFERED_EPOCHS = 100;
/** Episodes whose last request failed, remembered for pages opened later (oldest forgotten first). */
const MAX_REMEMBERED_FAILURES = 1000;
/** A failure message is shown, not stored: the dashboard needs its gist. */
const MAX_ERROR_MESSAGE_LENGTH = 2000;

export class EpisodeEventBus {
  private readonly subscriptions = new Set<Subscription>();
  /** Requests executing now, by run number, with the epochs they reported (replayed to late subscribers). */
  private readonly inFlight = new Map<number, InFlight>();
  /**
   * The failed step_ended of episodes whose last request failed (by tenant and episode), so
   * a page opened after the failure shows it instead of an episode that looks merely running.
   */
  private readonly lastFailure = new Map<string, DashboardEvent>();
  private nextRun = 1;

  /** Events of one tenant (all its episodes, or one). Returns the unsubscribe function. */
  subscribe(filter: { tenant: TenantId; episodeId?: string | null }, listener: DashboardListener): () => void {
    const subscription: Subscription = { tenant: filter.tenant, episodeId: filter.episodeId ?? null, listener };
    this.subscriptions.add(subscription);
    return () => {
      this.subscriptions.delete(subscription);
    };
  }

  /** The events of steps of this episode executing now (started, then each epoch so far), after its last request's failure if it failed. */
  replay(tenant: TenantId, episodeId: string): DashboardEvent[] {
    const failed = this.lastFailure.get(failureKey(tenant, episodeId));
    const events: DashboardEvent[] = failed ? [failed] : [];
    for (const run of this.inFlight.values()) {
      if (run.started.tenant === tenant && run.started.episode_id === episodeId) events.push(run.started, ...run.epochs);
    }
    return events;
  }

  /** Episodes of the tenant with a step executing now. */
  running(tenant: TenantId): Set<string> {
    const ids = new Set<string>();
    for (const run of this.inFlight.values()) if (run.started.tenant === tenant) ids.add(run.started.episode_id);
    return ids;
  }

  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  publish(event: DashboardEvent): void {
    if (event.type === 'step_started') this.inFlight.set(event.run, { started: event, epochs: [] });
    else if (event.type === 'epoch') {
      const run = this.inFlight.get(event.run);
      if (run && run.epochs.length < MAX_BUFFERED_EPOCHS) run.epochs.push(event);
    } else if (event.type === 'step_ended') {
      this.inFlight.delete(event.run);
      this.rememberOutcome(event);
    }
    for (const s of [...this.subscriptions]) {
      if (s.tenant !== event.tenant || (s.episodeId !== null && s.episodeId !== event.episode_id)) continue;
      try {
        s.listener(event);
      } catch {
        // A failing subscriber (a closed stream) must not fail the step or the others.
      }
    }
  }

  private rememberOutcome(event: Extract<DashboardEvent, { type: 'step_ended' }>): void {
    const key = failureKey(event.tenant, event.episode_id);
    this.lastFailure.delete(key);
    // A refusal because another step is executing says nothing about the episode.
    if (event.ok || event.error_code === 'in_progress' || event.error_code === 'episode_busy') return;
    this.lastFailure.set(key, event);
    if (this.lastFailure.size > MAX_REMEMBERED_FAILURES) this.lastFailure.delete(this.lastFailure.keys().next().value!);
  }

  /** A number identifying one step request while it executes. */
  newRun(): number {
    return this.nextRun++;
  }
}

function failureKey(tenant: TenantId, episodeId: string): string {
  return JSON.stringify([tenant, episodeId]);
}

/** A failed request as its caller saw it: the interfaces' code and message (never an internal error's own). */
function failureOf(error: unknown): { error_code: string; error_message: string } {
  const failure = classifyFailure(error);
  return { error_code: failure.code, error_message: failure.message.slice(0, MAX_ERROR_MESSAGE_LENGTH) };
}

/**
 * The service every adapter of the server calls, reporting to the bus: the server's one hook
 * for the dashboard. Each step request passes its own onEpoch on, and the bus hears every
 * epoch too, whoever asked for the step.
 */
export function observeEpisodeService(service: EpisodeService, bus: EpisodeEventBus): EpisodeService {
  return {
    async createEpisode(input) {
      const view = await service.createEpisode(input);
      bus.publish({ type: 'episode_created', tenant: view.tenant, episode_id: view.episode_id, task_id: view.task_id, agent: view.agent });
      return view;
    },
    getEpisode: (tenant, episodeId) => service.getEpisode(tenant, episodeId),
    listEpisodes: (tenant, options) => service.listEpisodes(tenant, options),
    async step(request: StepRequest): Promise<StepView> {
      const run = bus.newRun();
      const base = { tenant: request.tenant, episode_id: request.episodeId, run, tool: typeof request.call?.tool === 'string' ? request.call.tool.slice(0, 128) : '?' };
      bus.publish({ type: 'step_started', ...base, reason: boundedReason(typeof request.call?.reason === 'string' ? request.call.reason : null) ?? null });
      const onEpoch = (progress: EpochProgress) => {
        bus.publish({ type: 'epoch', ...base, progress: { ...progress } });
        request.onEpoch?.(progress);
      };
      let view: StepView;
      try {
        view = await service.step({ ...request, onEpoch });
      } catch (error) {
        bus.publish({ type: 'step_ended', ...base, ok: false, step: null, done: false, ...failureOf(error) });
        throw error;
      }
      bus.publish({ type: 'step_ended', ...base, ok: true, step: view.step, done: view.done, error_code: view.error?.code ?? null, error_message: null });
      return view;
    },
  };
}
