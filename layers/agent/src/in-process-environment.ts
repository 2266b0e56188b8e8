import {
  boundedReason,
  buildObservation,
  createEpisode,
  describeTools,
  executeStep,
  getTask,
  type AgentLabel,
  type EpisodeRecord,
  type ToolDescription,
  type Trainer,
  type TrainerFactory,
} from '../../core/src';
import type { AgentEnvironment, CallOptions, EpisodeSession, ToolOutcome } from './environment';
import { taskInfoOf } from './task-info';

/**
 * Plays episodes in this process: the core's state machine with a trainer from the
 * factory (tfjs for real training, the formula stand-in for tests). No server, no storage.
 */
export class InProcessEnvironment implements AgentEnvironment {
  readonly description = 'in-process';
  private episodes = 0;

  constructor(private readonly factory: TrainerFactory) {}

  async listTools(): Promise<ToolDescription[]> {
    return describeTools();
  }

  async startEpisode(input: { taskId: string; seed?: number; agent?: AgentLabel }): Promise<EpisodeSession> {
    const task = getTask(input.taskId);
    const record = createEpisode(task.task_id, input.seed, input.agent);
    const trainer = await this.factory.create({ taskId: record.task_id, seed: record.seed });
    this.episodes += 1;
    return new InProcessSession(`local-${this.episodes}`, record, trainer);
  }
}

class InProcessSession implements EpisodeSession {
  readonly task;
  readonly seed: number;
  readonly maxSteps: number;
  readonly initialObservation;
  private closed = false;

  constructor(
    readonly episodeId: string,
    private record: EpisodeRecord,
    private readonly trainer: Trainer,
  ) {
    this.task = taskInfoOf(getTask(record.task_id));
    this.seed = record.seed;
    this.maxSteps = record.max_steps;
    this.initialObservation = buildObservation(record);
  }

  /** The episode as it stands (for tests and summaries). */
  get currentRecord(): EpisodeRecord {
    return this.record;
  }

  async call(tool: string, args?: unknown, options: CallOptions = {}): Promise<ToolOutcome> {
    if (this.closed) throw new Error(`episode ${this.episodeId}: the session is closed`);
    // A trainer fault propagates and leaves the record as it was.
    const reason = boundedReason(options.reason);
    const call = { tool, arguments: args, ...(reason === undefined ? {} : { reason }) };
    const result = await executeStep(this.record, call, this.trainer, { onEpoch: options.onEpoch });
    this.record = result.record;
    return {
      step: result.record.step_count,
      tool: result.tool,
      data: result.data,
      error: result.error,
      reward: result.reward,
      done: result.done,
      grade: result.grade,
    };
  }

  async readRecord(): Promise<EpisodeRecord> {
    return structuredClone(this.record);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.trainer.dispose();
  }
}
