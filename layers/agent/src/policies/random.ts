import { BATCH_SIZES, LR_SCHEDULES, OPTIMIZERS, TOOL_NAMES, type ToolCall, type ToolName } from '../../../core/src';
import type { Policy, PolicyContext, PolicyDecision, PolicyEpisode } from '../policy';

export interface RandomPolicyOptions {
  /** The seed of the policy's own generator (default: the episode's seed). */
  seed?: number;
  /** Chance that a step submits (default 0.04, so most episodes run to the step limit). */
  submitProbability?: number;
}

/** mulberry32: a small, fast, seeded generator (not for anything but choosing moves). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random tool calls with valid arguments: a floor for comparisons and a smoke test of
 * environments. The same seed makes the same calls (given the same outcomes).
 */
export function randomPolicy(options: RandomPolicyOptions = {}): Policy {
  return {
    name: 'random',
    start(context: PolicyContext): PolicyEpisode {
      const rand = seededRandom(options.seed ?? context.seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
      const logUniform = (lo: number, hi: number) => Number(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))).toPrecision(3));
      const submitProbability = options.submitProbability ?? 0.04;
      const others = TOOL_NAMES.filter((t) => t !== 'submit_model');
      return {
        async next(): Promise<PolicyDecision> {
          const tool: ToolName = rand() < submitProbability ? 'submit_model' : pick(others);
          return { call: randomCall(tool), reason: 'random' };
        },
      };

      function randomCall(tool: ToolName): ToolCall {
        switch (tool) {
          case 'configure_training': {
            const args: Record<string, unknown> = {};
            if (rand() < 0.7) args.optimizer = pick(OPTIMIZERS);
            if (rand() < 0.7) args.learning_rate = logUniform(1e-4, 0.05);
            if (rand() < 0.5) args.batch_size = pick(BATCH_SIZES);
            if (rand() < 0.4) args.weight_decay = logUniform(1e-5, 1e-2);
            if (rand() < 0.5) args.dropout = Math.round(rand() * 6) / 10;
            if (rand() < 0.5) args.lr_schedule = pick(LR_SCHEDULES);
            if (rand() < 0.3) args.warmup_epochs = Math.floor(rand() * 6);
            if (rand() < 0.3) {
              args.augmentation = rand() < 0.5;
              args.augmentation_strength = Math.round(rand() * 10) / 10;
            }
            return { tool, arguments: args };
          }
          case 'run_epochs':
            return { tool, arguments: { num_epochs: 1 + Math.floor(rand() * 20) } };
          case 'adjust_learning_rate':
            return { tool, arguments: { new_lr: logUniform(1e-5, 0.05) } };
          case 'toggle_augmentation':
            return { tool, arguments: { enabled: rand() < 0.6, strength: Math.round(rand() * 10) / 10 } };
          default:
            return { tool, arguments: {} };
        }
      }
    },
  };
}
