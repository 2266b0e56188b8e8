import type { StepResult } from '../layers/core/src';

/** The JSON line `run` and `step` print for every step. */
export function stepLine(result: StepResult): Record<string, unknown> {
  return {
    step: result.record.step_count,
    tool: result.tool,
    observation: result.data,
    reward: result.reward,
    done: result.done,
  };
}

/** A one-line human summary of a step. */
export function describeStep(result: StepResult): string {
  const d = result.data as Record<string, unknown>;
  const reward = `${result.reward >= 0 ? '+' : ''}${result.reward.toFixed(4)}`;
  const head = `step ${String(result.record.step_count).padStart(2)} ${result.tool.padEnd(21)} reward ${reward}`;
  if (result.error) return `${head}  error: ${result.error.message}`;
  return (
    `${head}  epoch ${d.current_epoch}/${d.max_epochs} (budget left ${d.remaining_budget})  ` +
    `val_acc ${d.val_accuracy}  best ${d.best_val_accuracy} @${d.best_val_epoch}  ${d.convergence_signal}`
  );
}
