import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createEpisode, executeStep, type AgentLabel, type EpisodeRecord, type ToolCall } from '../../layers/core/src';
import type { EpisodeStore, StoredEpisode } from '../../layers/storage/src';
import { formulaTrainerFactory } from '../../layers/testing/src';

/**
 * Ended episodes without training, for tests at scale: a few records played to their end by
 * the core with the formula trainer (real records: the grader recomputes each grade from
 * them), each stored under many episode ids with its own tenant, agent and end time, and
 * written with BatchWriteItem in the store's own item layout (EpisodeStore.prepare).
 */

const TASKS = ['easy_mnist', 'medium_fashion', 'hard_cifar'] as const;
const AGENTS: AgentLabel[] = [{ policy: 'baseline' }, { policy: 'llm', model: 'model-a', version: 'v1' }, { policy: 'llm', model: 'model-b' }, { policy: 'random' }];

/** One finished record per (task, plan): configure, train some epochs, submit. */
async function playedRecords(): Promise<EpisodeRecord[]> {
  const records: EpisodeRecord[] = [];
  for (const task of TASKS) {
    for (const [lr, epochs] of [
      [0.001, 2],
      [0.01, 5],
      [0.05, 3],
      [0.003, 8],
    ] as const) {
      let record = createEpisode(task);
      const trainer = await formulaTrainerFactory.create({ taskId: task, seed: record.seed });
      const calls: ToolCall[] = [
        { tool: 'configure_training', arguments: { learning_rate: lr } },
        { tool: 'run_epochs', arguments: { num_epochs: epochs } },
        { tool: 'submit_model', arguments: {} },
      ];
      for (const call of calls) record = (await executeStep(record, call, trainer)).record;
      if (record.status !== 'submitted' || record.grade === null) throw new Error(`${task}: the played record did not end with a grade`);
      records.push(record);
    }
  }
  return records;
}

export interface SyntheticEpisodes {
  /** `<tenant>#<episode_id>` of every episode written. */
  keys: string[];
  /** The earliest and the latest end time. */
  firstEndedAt: string;
  lastEndedAt: string;
  /** The items' mean size as DynamoDB counts it (the store's estimate). */
  meanItemBytes: number;
}

/**
 * Writes `count` ended episodes over `tenants` tenants, ending one every `spacingMs` from
 * `firstEnd` (so a day boundary or two falls among them), 25 per BatchWriteItem, `parallel` at once.
 */
export async function writeEndedEpisodes(
  store: EpisodeStore,
  documents: DynamoDBDocumentClient,
  options: { count: number; tenants: number; firstEnd: Date; spacingMs: number; idPrefix?: string; parallel?: number },
): Promise<SyntheticEpisodes> {
  const records = await playedRecords();
  const episodeAt = (i: number): StoredEpisode => {
    const endedAt = new Date(options.firstEnd.getTime() + i * options.spacingMs).toISOString();
    const record = { ...records[i % records.length]!, agent: AGENTS[i % AGENTS.length]! };
    return {
      tenant: `tenant-${String(i % options.tenants).padStart(3, '0')}`,
      episode_id: `${options.idPrefix ?? 'synthetic'}-${String(i).padStart(6, '0')}`,
      version: 3,
      created_at: endedAt,
      updated_at: endedAt,
      record,
      checkpoint: null,
      usage: { steps: record.step_count, epochs_trained: record.budget_used, training_seconds: 0 },
      results: {},
      commit_id: `commit-${i}`,
      ended_at: endedAt,
    };
  };
  const table = store.tableName;
  const keys: string[] = [];
  let itemBytes = 0;
  let next = 0;
  const writer = async () => {
    while (next < options.count) {
      const from = next;
      next = Math.min(options.count, next + 25);
      const prepared = Array.from({ length: next - from }, (_, k) => store.prepare(episodeAt(from + k)));
      const items = prepared.map((p) => p.item);
      for (const p of prepared) {
        keys.push(`${String(p.item.tenant)}#${String(p.item.episode_id)}`);
        itemBytes += p.estimatedBytes;
      }
      let pending: unknown[] = items.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
        const out = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 4 }, writer));
  return { keys, firstEndedAt: episodeAt(0).ended_at!, lastEndedAt: episodeAt(options.count - 1).ended_at!, meanItemBytes: Math.round(itemBytes / options.count) };
}
