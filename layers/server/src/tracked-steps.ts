import { stepStatusPath } from '../../core/src';
import {
  DEFAULT_STEP_LEASE_MS,
  EpisodeServiceError,
  type DeferredStepService,
  type EpisodeService,
  type PendingStep,
  type StepOutcome,
  type StepRequest,
} from '../../episodes/src';
import type { RunningSteps } from './running-steps';

/**
 * The local server's steps as the REST API submits and polls them. A step runs inside its
 * POST (always done when it answers); while the POST is in flight, a poll of its request_id
 * answers it running with the epochs done so far, so a client sees a long step's epochs as
 * they finish. A step sent without a request_id cannot be polled (it has no id).
 */
export function trackedSteps(service: Pick<EpisodeService, 'step'>, running: RunningSteps, clock: () => Date = () => new Date()): DeferredStepService {
  return {
    async submitStep(request: StepRequest): Promise<StepOutcome> {
      const handle = request.requestId === undefined ? null : running.start(request.tenant, request.episodeId, request.requestId, clock().toISOString());
      if (handle === null) return { kind: 'done', view: await service.step(request) };
      try {
        const view = await service.step({
          ...request,
          onExecuting: () => {
            handle.executing();
            request.onExecuting?.();
          },
          onEpoch: (progress) => {
            handle.epoch(progress);
            request.onEpoch?.(progress);
          },
        });
        return { kind: 'done', view };
      } finally {
        handle.end();
      }
    },

    async pollStep(tenant, episodeId, stepId): Promise<StepOutcome> {
      const step = running.get(tenant, episodeId, stepId);
      if (step === undefined) throw notRunning(episodeId, stepId);
      const pending: PendingStep = {
        step_id: step.stepId,
        status: step.executing ? 'running' : 'pending',
        poll: stepStatusPath(episodeId, stepId),
        requested_at: step.requestedAt,
        // A rolling deadline: a step whose server stops loses its lease within this time (its request fails).
        deadline_at: new Date(clock().getTime() + DEFAULT_STEP_LEASE_MS).toISOString(),
        ...(step.progress === undefined ? {} : { progress: step.progress }),
      };
      return { kind: 'pending', pending };
    },
  };
}

/** 404 for a step this server is not running: its answer was (or will be) its POST's. */
function notRunning(episodeId: string, stepId: string): EpisodeServiceError {
  return new EpisodeServiceError(
    'not_found',
    `No step ${JSON.stringify(stepId)} is running on episode ${JSON.stringify(episodeId)}. This server reports a step only while its ` +
      'POST /v1/episodes/{id}/steps is executing; a finished step was answered by that request (sending it again with the same ' +
      `request_id replays the stored result), and GET /v1/episodes/${encodeURIComponent(episodeId)} reads the episode's record.`,
    { episode_id: episodeId, step_id: stepId },
  );
}
