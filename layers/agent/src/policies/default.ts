import { MAX_EPOCHS_PER_CALL } from '../../../core/src';
import { readObservation } from '../observation-view';
import type { Policy, PolicyContext, PolicyDecision, PolicyEpisode } from '../policy';
import type { ToolOutcome } from '../environment';

/**
 * The reference point the baseline must beat: configure with no arguments (adam 1e-3,
 * batch 64, no regularisation, constant lr), train the whole budget, submit.
 */
export const defaultPolicy: Policy = {
  name: 'default',
  start(context: PolicyContext): PolicyEpisode {
    let observation = context.initialObservation;
    let configured = false;
    return {
      async next(last: ToolOutcome | null): Promise<PolicyDecision> {
        if (last) observation = readObservation(last.data, observation);
        if (!configured) {
          configured = true;
          return { call: { tool: 'configure_training', arguments: {} }, reason: 'the default configuration' };
        }
        const stepsLeft = context.maxSteps - observation.step_count;
        if (observation.remaining_budget > 0 && !observation.is_diverged && stepsLeft > 1) {
          return { call: { tool: 'run_epochs', arguments: { num_epochs: MAX_EPOCHS_PER_CALL } }, reason: 'train the whole budget' };
        }
        return { call: { tool: 'submit_model', arguments: {} }, reason: 'budget spent' };
      },
    };
  },
};
