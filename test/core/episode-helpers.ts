import { createEpisode, executeStep, type EpisodeRecord, type StepResult, type ToolCall } from '../../layers/core/src';
import { FormulaTrainer } from '../../layers/testing/src';

/** Plays tool calls through the state machine with the formula trainer. */
export async function play(taskId: string, calls: ToolCall[], start?: { record: EpisodeRecord; trainer: FormulaTrainer }) {
  let record = start?.record ?? createEpisode(taskId);
  const trainer = start?.trainer ?? FormulaTrainer.fresh({ taskId, seed: record.seed });
  const results: StepResult[] = [];
  for (const call of calls) {
    const result = await executeStep(record, call, trainer);
    results.push(result);
    record = result.record;
  }
  return { record, trainer, results, last: results[results.length - 1] };
}

export const configure = (args: Record<string, unknown> = {}): ToolCall => ({ tool: 'configure_training', arguments: args });
export const run = (num_epochs?: number): ToolCall => ({ tool: 'run_epochs', arguments: num_epochs === undefined ? {} : { num_epochs } });
export const status: ToolCall = { tool: 'get_training_status' };
export const submitCall: ToolCall = { tool: 'submit_model' };
