import { z } from 'zod';
import { getTask, isTaskId, taskIds } from '../../../core/src';

/** One episode an eval plays: a task and a seed. */
export interface PlannedEpisode {
  task_id: string;
  seed: number;
}

/** `--seeds`: how many seeds from the task's own, or an explicit list. */
export type SeedSpec = { kind: 'count'; count: number } | { kind: 'list'; seeds: number[] };

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Longest plan an eval accepts (tasks × seeds): a typo such as --seeds 5000 should not queue days of training. */
export const MAX_SEEDS_PER_TASK = 1000;
const MAX_SEED = 2 ** 31 - 1;

const seedSchema = z.coerce.number().int().min(0).max(MAX_SEED);
const countSchema = z.coerce.number().int().min(1).max(MAX_SEEDS_PER_TASK);

/** `--tasks all` or a comma-separated list of task ids (duplicates dropped, order kept). */
export function parseTaskList(text: string): Parsed<string[]> {
  const allowed = `all, or a comma-separated list of ${taskIds().join(', ')}`;
  if (text.trim() === 'all') return { ok: true, value: [...taskIds()] };
  const ids = text.split(',').map((part) => part.trim());
  const unknown = ids.filter((id) => !isTaskId(id));
  if (ids.length === 0 || unknown.length > 0) {
    return { ok: false, message: `--tasks must be ${allowed}; unknown: ${unknown.map((id) => JSON.stringify(id)).join(', ')}` };
  }
  return { ok: true, value: [...new Set(ids)] };
}

/**
 * `--seeds N` (the task's own seed and the N-1 after it, so seed #1 is the episode every
 * other command plays by default) or `--seeds 3,17,42` (those seeds on every task).
 */
export function parseSeedSpec(text: string): Parsed<SeedSpec> {
  const allowed = `a count from 1 to ${MAX_SEEDS_PER_TASK} (the task's own seed and the ones after it) or a comma-separated list of seeds from 0 to ${MAX_SEED}`;
  const trimmed = text.trim();
  if (!trimmed.includes(',')) {
    if (!/^\d+$/.test(trimmed)) return { ok: false, message: `--seeds must be ${allowed}, got ${JSON.stringify(text)}` };
    const count = countSchema.safeParse(trimmed);
    return count.success ? { ok: true, value: { kind: 'count', count: count.data } } : { ok: false, message: `--seeds must be ${allowed}, got ${JSON.stringify(text)}` };
  }
  const parts = trimmed.split(',').map((part) => part.trim());
  const seeds: number[] = [];
  for (const part of parts) {
    const seed = /^\d+$/.test(part) ? seedSchema.safeParse(part) : null;
    if (!seed?.success) return { ok: false, message: `--seeds must be ${allowed}; ${JSON.stringify(part)} is not a seed` };
    seeds.push(seed.data);
  }
  const unique = [...new Set(seeds)];
  if (unique.length > MAX_SEEDS_PER_TASK) return { ok: false, message: `--seeds lists ${unique.length} seeds; at most ${MAX_SEEDS_PER_TASK}` };
  return { ok: true, value: { kind: 'list', seeds: unique } };
}

/** The seeds a task is played with. */
export function seedsForTask(taskId: string, spec: SeedSpec): number[] {
  if (spec.kind === 'list') return [...spec.seeds];
  const own = getTask(taskId).seed;
  return Array.from({ length: spec.count }, (_, i) => own + i);
}

/** Every episode of the eval, task by task, seeds in order. */
export function planEpisodes(tasks: readonly string[], spec: SeedSpec): PlannedEpisode[] {
  return tasks.flatMap((task_id) => seedsForTask(task_id, spec).map((seed) => ({ task_id, seed })));
}
