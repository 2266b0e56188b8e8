import type { EpisodeRecord } from '../layers/core/src';
import { buildEpisodeReport } from '../layers/reports/src';
import { fill, TERMINAL_WIDTH } from './help-text';

/** What the terminal saw after a step: the model's best val accuracy then (for the models the record no longer keeps). */
export interface SeenBest {
  step: number;
  best_val_accuracy: number;
}

/**
 * The grade in words, from the episode's report (the same facts the report page shows):
 * its sub-scores, and when a dropout change rebuilt the model, that only the last model
 * counts and what the earlier ones reached.
 */
export function gradeSummaryLines(record: EpisodeRecord, seen: readonly SeenBest[], width = TERMINAL_WIDTH): string[] {
  const report = buildEpisodeReport({ record });
  const grade = report.grade;
  const head = `${grade.final ? 'Grade' : 'Grade if submitted now'}: ${grade.score}`;
  const sum = grade.components.map((c) => (grade.components.length > 1 ? `${c.weight} × ${c.label.toLowerCase()} ${c.value}` : `${c.label.toLowerCase()} ${c.value}`));
  const lines = fill(words(`${head} = ${sum.join(' + ')}`), '', '  ', width);
  const inputs = grade.inputs.map((i) => `${i.label.toLowerCase()} ${i.value}`);
  if (inputs.length > 0) lines.push(...fill(words(`from ${inputs.join(', ')}`), '  ', '  ', width));
  const rebuilt = rebuildNote(report, seen);
  if (rebuilt) lines.push(...fill(words(rebuilt), '  ', '  ', width));
  return lines;
}

function rebuildNote(report: ReturnType<typeof buildEpisodeReport>, seen: readonly SeenBest[]): string | null {
  const earlier = report.generations.filter((g) => !g.current);
  const current = report.generations.find((g) => g.current);
  if (earlier.length === 0 || current === undefined) return null;
  const rebuiltAt = current.steps[0];
  const spent = earlier.reduce((sum, g) => sum + g.epochs_spent, 0);
  const seenBefore = seen.filter((s) => s.step < rebuiltAt).map((s) => s.best_val_accuracy);
  const earlierBest = seenBefore.length > 0 ? ` (best val_acc ${Math.max(...seenBefore).toFixed(4)})` : '';
  const after = report.best === null ? 'trained no epoch' : `trained ${current.epochs_spent} epochs, best val_acc ${report.best.val_accuracy.toFixed(4)}`;
  return (
    `Graded on the model rebuilt at step ${rebuiltAt} (dropout changed) only: it ${after}. ` +
    `The ${plural(spent, 'epoch')} of the earlier model${earlier.length > 1 ? 's' : ''}${earlierBest} do not count.`
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}
