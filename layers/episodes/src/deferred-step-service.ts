import type { StepProgress } from '../../core/src';
import { stepNotFound } from './episode-lookup';
import type { EpisodeService, StepRequest, StepView, TenantId } from './episode-service';

/** A step accepted but not finished within its request: where and until when to ask for it. */
export interface PendingStep {
  /** The step's request_id (the client's, or one generated for it). */
  step_id: string;
  status: 'pending' | 'running';
  /** The path that answers the step once it committed (pollStep; core's stepStatusPath). */
  poll: string;
  requested_at: string;
  /** Without a result by then, the step failed. */
  deadline_at: string;
  /** The epochs done so far, once a running step finished one (core's step-progress.ts). */
  progress?: StepProgress;
}

/** What submitting or polling a step comes to: its view, or that it goes on elsewhere. */
export type StepOutcome = { kind: 'done'; view: StepView } | { kind: 'pending'; pending: PendingStep };

/**
 * Steps that may outlast their request (the cloud runs long ones in the training Lambda).
 * Refusals are EpisodeServiceErrors, as in EpisodeService.step, plus training_busy and
 * step_failed; a poll of an unknown step is not_found.
 */
export interface DeferredStepService {
  submitStep(request: StepRequest): Promise<StepOutcome>;
  /** A submitted step by its id: done once committed, pending while it runs. */
  pollStep(tenant: TenantId, episodeId: string, stepId: string): Promise<StepOutcome>;
}

/** An EpisodeService's steps as deferred ones that are always done: nothing is ever pending, so nothing can be polled. */
export function immediateSteps(service: Pick<EpisodeService, 'step'>): DeferredStepService {
  return {
    submitStep: async (request) => ({ kind: 'done', view: await service.step(request) }),
    pollStep: async (_tenant, episodeId, stepId) => {
      throw stepNotFound(episodeId, stepId);
    },
  };
}
