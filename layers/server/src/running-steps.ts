import { withEpoch, type EpochProgress, type StepProgress } from '../../core/src';
import type { TenantId } from '../../episodes/src';

/** A step whose request is executing on this server, as its status route reports it. */
export interface RunningStep {
  stepId: string;
  requestedAt: string;
  /** False while the request waits (for the episode's lease, a trainer worker); true once it executes. */
  executing: boolean;
  progress?: StepProgress;
}

/** What the request that registered a step reports while it runs. */
export interface RunningStepHandle {
  executing(): void;
  epoch(progress: EpochProgress): void;
  /** The request is over (answered or failed): the step is no longer running here. */
  end(): void;
}

/**
 * More steps than any server runs at once (sessions are capped far lower): past it a step
 * still runs, only its status is not kept, so a flood of ids cannot grow memory.
 */
export const MAX_RUNNING_STEPS = 10_000;

/**
 * The steps executing in this process, by tenant, episode and request_id. In memory: a local
 * server's steps run inside their POST, so they are running exactly while it is in flight.
 */
export class RunningSteps {
  private readonly steps = new Map<string, RunningStep>();

  constructor(private readonly max = MAX_RUNNING_STEPS) {}

  /**
   * Registers a step's request; null when the same step is already registered (a duplicate
   * request waits for the first, whose progress stays the one reported) or the registry is full.
   */
  start(tenant: TenantId, episodeId: string, stepId: string, requestedAt: string): RunningStepHandle | null {
    const key = runningKey(tenant, episodeId, stepId);
    if (this.steps.has(key) || this.steps.size >= this.max) return null;
    const step: RunningStep = { stepId, requestedAt, executing: false };
    this.steps.set(key, step);
    return {
      executing: () => {
        step.executing = true;
      },
      epoch: (progress) => {
        step.executing = true;
        step.progress = withEpoch(step.progress, progress);
      },
      end: () => {
        if (this.steps.get(key) === step) this.steps.delete(key);
      },
    };
  }

  /** A snapshot of the step (later epochs do not change it), or undefined when it is not running here. */
  get(tenant: TenantId, episodeId: string, stepId: string): RunningStep | undefined {
    const step = this.steps.get(runningKey(tenant, episodeId, stepId));
    return step === undefined ? undefined : { ...step };
  }

  get size(): number {
    return this.steps.size;
  }
}

function runningKey(tenant: TenantId, episodeId: string, stepId: string): string {
  return JSON.stringify([tenant, episodeId, stepId]);
}
