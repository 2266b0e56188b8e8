import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { autoSubmitEpisode as endAbandonedEpisode, gradeEpisode, gradeInputOf, type AgentLabel, type Grade } from '../../core/src';
import { isStorageError, isValidId, type EpisodeStore, type StoredEpisode } from '../../storage/src';

/**
 * Grading a stored episode (the grade Lambda) and auto-submitting an abandoned one (the
 * batch run). Both act on the stored record only and never need a trainer: the grade is
 * the core's `gradeEpisode(gradeInputOf(record))`, the same function the core runs when an
 * episode is submitted, so a submitted episode's grade is confirmed rather than replaced.
 */
export interface GradeDeps {
  episodes: EpisodeStore;
  clock?: () => Date;
}

/** One entry of the batch report (and the grade Lambda's answer): small on purpose. */
export interface GradeResult {
  tenant: string;
  episode_id: string;
  task_id: string | null;
  /** graded: the recomputed grade equals the recorded one; grade_mismatch: it does not (the recorded one stands); not_ended: still active; not_found: gone. */
  status: 'graded' | 'grade_mismatch' | 'not_ended' | 'not_found';
  score: number | null;
  /** Best validation accuracy of the graded (current) model. */
  accuracy?: number;
  /** Epochs spent in the episode (all models). */
  epochs?: number;
  steps?: number;
  ended?: 'submitted' | 'auto_submitted';
  ended_at?: string;
  /** grade_mismatch only: what the grader computes now. */
  recomputed_score?: number;
}

export interface GradeRequest {
  tenant: string;
  episode_id: string;
  source?: string;
  run_id?: string;
}

/**
 * Grades a stored episode, idempotently. An ended episode already carries the grade the
 * core gave it when it ended: it is recomputed from the record and compared; the outcome
 * is recorded on the item once (`graded_at`, `graded_by`, `grade_matches`; later calls
 * change nothing). An active episode is not graded (the batch run auto-submits abandoned
 * ones first).
 */
export async function gradeStoredEpisode(deps: GradeDeps, request: GradeRequest): Promise<GradeResult> {
  return (await gradeStoredEpisodeLabelled(deps, request)).result;
}

/**
 * gradeStoredEpisode, with who played the episode (its record's label; null: unlabelled or
 * not found), for a caller that reports it (the batch run) without reading the item again.
 */
export async function gradeStoredEpisodeLabelled(deps: GradeDeps, request: GradeRequest): Promise<{ result: GradeResult; agent: AgentLabel | null }> {
  const clock = deps.clock ?? (() => new Date());
  const { tenant, episode_id } = request;
  const missing = { result: { tenant, episode_id, task_id: null, status: 'not_found', score: null } satisfies GradeResult, agent: null };
  if (!isValidId(tenant) || !isValidId(episode_id)) return missing;
  for (let attempt = 0; attempt < 3; attempt++) {
    const read = await deps.episodes.getWithNotes(tenant, episode_id);
    if (read === null) return missing;
    const { episode, notes } = read;
    const record = episode.record;
    const agent = record.agent ?? null;
    if (record.status === 'active') {
      return { result: { tenant, episode_id, task_id: record.task_id, status: 'not_ended', score: null, steps: record.step_count, epochs: record.budget_used }, agent };
    }
    const recomputed = gradeEpisode(gradeInputOf(record));
    const matches = record.grade !== null && isDeepStrictEqual(record.grade, recomputed);
    const grade = record.grade ?? recomputed;
    // Already graded with this outcome: nothing to write. The note would change nothing (graded_at and
    // graded_by are set once), and DynamoDB charges an update by the whole item (17-60 KB), not by the note.
    const noted =
      (notes.graded_at !== undefined && notes.grade_matches === matches) ||
      (await deps.episodes.noteIfAtVersion(tenant, episode_id, episode.version, {
        graded_at: clock().toISOString(),
        graded_by: request.run_id ? `${request.source ?? 'batch'}:${request.run_id}` : (request.source ?? 'api'),
        grade_matches: matches,
      }));
    if (!noted) continue; // the item changed under us: read it again
    const result: GradeResult = {
      ...resultOf(episode, grade),
      status: matches ? 'graded' : 'grade_mismatch',
      ...(matches ? {} : { recomputed_score: recomputed.score }),
    };
    return { result, agent };
  }
  throw new Error(`Episode ${episode_id} kept changing while it was graded.`);
}

function resultOf(episode: StoredEpisode, grade: Grade): Omit<GradeResult, 'status'> {
  const record = episode.record;
  return {
    tenant: episode.tenant,
    episode_id: episode.episode_id,
    task_id: record.task_id,
    score: grade.score,
    accuracy: record.model.best_val_accuracy,
    epochs: record.budget_used,
    steps: record.step_count,
    ended: record.status as 'submitted' | 'auto_submitted',
    ...(episode.ended_at ? { ended_at: episode.ended_at } : {}),
  };
}

export interface AutoSubmitDeps extends GradeDeps {
  /** An episode untouched this long is abandoned. */
  abandonAfterHours: number;
  newId?: () => string;
}

export interface AutoSubmitResult {
  tenant: string;
  episode_id: string;
  status: 'auto_submitted' | 'already_ended' | 'not_abandoned' | 'not_found';
  score: number | null;
}

/**
 * Ends an abandoned episode the way the core ends one at its step limit: status
 * `auto_submitted`, graded on the best validation accuracy of the current model. It is a
 * direct update of the stored record (no step: the step count, the rewards and the
 * checkpoint stay as they are) through the store's conditional write on the version read,
 * so a step that commits meanwhile wins and the episode is looked at again. Idempotent: an
 * ended episode is left alone. The run id is recorded on the item (`auto_submitted_by`),
 * so that the next run does not report the episode a second time.
 */
export async function autoSubmitEpisode(deps: AutoSubmitDeps, request: { tenant: string; episode_id: string; run_id: string }): Promise<AutoSubmitResult> {
  const clock = deps.clock ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const { tenant, episode_id } = request;
  const result = (status: AutoSubmitResult['status'], score: number | null = null): AutoSubmitResult => ({ tenant, episode_id, status, score });
  if (!isValidId(tenant) || !isValidId(episode_id)) return result('not_found');
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await deps.episodes.get(tenant, episode_id);
    if (current === null) return result('not_found');
    if (current.record.status !== 'active') return result('already_ended', current.record.grade?.score ?? null);
    const now = clock();
    if (Date.parse(current.updated_at) > now.getTime() - deps.abandonAfterHours * 3_600_000) return result('not_abandoned');
    const { record, grade } = endAbandonedEpisode(current.record);
    const next: StoredEpisode = {
      ...current,
      version: current.version + 1,
      updated_at: now.toISOString(),
      record,
      commit_id: newId(),
      ended_at: now.toISOString(),
    };
    try {
      await deps.episodes.commit(deps.episodes.prepare(next), current.version);
    } catch (error) {
      if (isStorageError(error, 'conflict')) continue; // a step committed meanwhile: look again
      throw error;
    }
    // A later step may already have moved the version on: the note is then simply not written.
    await deps.episodes.noteIfAtVersion(tenant, episode_id, next.version, { auto_submitted_by: request.run_id });
    return result('auto_submitted', grade.score);
  }
  throw new Error(`Episode ${episode_id} kept changing while it was auto-submitted.`);
}
