import { createEpisode, executeStep, type AgentLabel, type EpisodeRecord, type ToolCall, type Trainer, type TrainerFactory } from '../../layers/core/src';
import { FormulaTrainer, formulaTrainerFactory } from '../../layers/testing/src';

/** Plays tool calls on a fresh episode (labelled with `agent` where given) with the formula trainer; returns the record after each step. */
export async function play(calls: ToolCall[], taskId = 'easy_mnist', seed?: number, agent?: AgentLabel): Promise<EpisodeRecord[]> {
  let record = createEpisode(taskId, seed, agent);
  const trainer = FormulaTrainer.fresh({ taskId: record.task_id, seed: record.seed });
  const records: EpisodeRecord[] = [];
  for (const call of calls) {
    record = (await executeStep(record, call, trainer)).record;
    records.push(record);
  }
  return records;
}

export async function finalRecord(calls: ToolCall[], taskId = 'easy_mnist', agent?: AgentLabel): Promise<EpisodeRecord> {
  const records = await play(calls, taskId, undefined, agent);
  return records[records.length - 1]!;
}

/**
 * configure, run, adjust lr, toggle augmentation, run, dropout change (a fresh model 2),
 * run, status, submit: 11 steps, 20 epochs of which 9 belong to model 1.
 */
export const MAIN_SCRIPT: ToolCall[] = [
  { tool: 'configure_training', arguments: { optimizer: 'adam', learning_rate: 0.001, lr_schedule: 'cosine' } },
  { tool: 'run_epochs', arguments: { num_epochs: 5 } },
  { tool: 'adjust_learning_rate', arguments: { new_lr: 0.0005 } },
  { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.4 } },
  { tool: 'run_epochs', arguments: { num_epochs: 4 } },
  { tool: 'configure_training', arguments: { optimizer: 'adam', learning_rate: 0.001, dropout: 0.3 } },
  { tool: 'run_epochs', arguments: { num_epochs: 6 } },
  { tool: 'adjust_learning_rate', arguments: { new_lr: 0.0008 } },
  { tool: 'run_epochs', arguments: { num_epochs: 5 } },
  { tool: 'get_training_status', arguments: {} },
  { tool: 'submit_model', arguments: {} },
];

/** Trains 3 epochs, then lr 6 makes the next epoch's loss NaN: diverged; a later run trains nothing. */
export const DIVERGED_SCRIPT: ToolCall[] = [
  { tool: 'configure_training', arguments: { learning_rate: 0.001 } },
  { tool: 'run_epochs', arguments: { num_epochs: 3 } },
  { tool: 'adjust_learning_rate', arguments: { new_lr: 6 } },
  { tool: 'run_epochs', arguments: { num_epochs: 5 } },
  { tool: 'run_epochs', arguments: { num_epochs: 2 } },
  { tool: 'submit_model', arguments: {} },
];

/** A tool argument that tries to inject markup into every page that shows it. */
export const INJECTION = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

/** The formula trainer, each epoch taking `delayMs` (so a page can watch a step train). */
export function slowTrainerFactory(delayMs: number): TrainerFactory {
  const slow = (trainer: Trainer): Trainer => {
    const wrapped = Object.create(trainer) as Trainer;
    wrapped.trainEpoch = async (lr: number) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return trainer.trainEpoch(lr);
    };
    return wrapped;
  };
  return {
    async create(spec) {
      return slow(await formulaTrainerFactory.create(spec));
    },
    async restore(spec, checkpoint) {
      return slow(await formulaTrainerFactory.restore(spec, checkpoint));
    },
  };
}
