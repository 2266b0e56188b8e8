import { findTaskModule, listTaskModules } from '../../core/src';
import { formatNumber, html, type SafeHtml } from './html';
import { commandHtml, playCommand, type PlayTarget } from './play-command';

/**
 * The baseline a leaderboard compares with: the grade the built-in baseline policy
 * (`ml-trainer agent --policy baseline`) reached on a task, and where that figure comes from.
 */
export interface LeaderboardBaseline {
  score: number;
  val_accuracy?: number | null;
  /** Default "baseline". */
  label?: string;
  /** Where the score comes from, one plain-text phrase (shown under the figures). */
  source?: string | null;
}

export const BASELINE_AGENT_LABEL = 'baseline agent';

/**
 * Each task's measured baseline grade (its module's `baseline.measured_score`); tasks never
 * measured have none. `only`: just these tasks (a leaderboard lists every task with a
 * baseline, so a page that should list only the tasks played passes them).
 */
export function measuredBaselines(only?: Iterable<string>): Record<string, LeaderboardBaseline> {
  const wanted = only === undefined ? null : new Set(only);
  return Object.fromEntries(
    listTaskModules().flatMap(({ definition, baseline }) =>
      baseline.measured_score === null || (wanted !== null && !wanted.has(definition.task_id))
        ? []
        : [[definition.task_id, { score: baseline.measured_score, label: BASELINE_AGENT_LABEL, source: `measured with real training on the task's seed ${definition.seed}, recorded with the task` }]],
    ),
  );
}

/** One line under a task's figures: what the baseline is, where its score comes from, and how to play it here. */
export function baselineNote(taskId: string, baseline: LeaderboardBaseline | null, target: PlayTarget | null): SafeHtml {
  const command = commandHtml(playCommand(taskId, 'baseline', target));
  const where = target ? 'on this server' : 'yourself';
  if (baseline === null) {
    const why = findTaskModule(taskId)?.baseline.measured_score === null ? 'its baseline grade has not been measured' : 'none was given to this leaderboard';
    return html`<p class="muted baseline-note">Baseline: none for this task (${why}). It is the grade of the built-in baseline policy, a heuristic ML engineer. To rank it ${where}, run ${command}: its episodes appear as agent <code>baseline</code>.</p>`;
  }
  return html`<p class="muted baseline-note">Baseline ${formatNumber(baseline.score)}: the grade of the built-in baseline policy (a heuristic ML engineer)${baseline.source ? `, ${baseline.source}` : ''}. To rank it ${where}, run ${command}: its episodes appear as agent <code>baseline</code>.</p>`;
}
