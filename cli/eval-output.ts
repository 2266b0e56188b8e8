import type { AgentLabel } from '../layers/core/src';
import type { Comparison, EvalEpisode, MeanInterval, TaskSummary } from '../layers/agent/src';
import type { EvalReportData } from '../layers/reports/src';
import { fill, TERMINAL_WIDTH } from './help-text';

/** Everything an eval produced, as the table, the JSON summary line and the HTML report read it. */
export interface EvalResults {
  agent: AgentLabel;
  environment: string;
  command: string;
  confidence: { level: number; resamples: number; seed: number };
  tasks: { task_id: string; max_epochs: number; summary: TaskSummary; comparisons: Comparison[]; episodes: EvalEpisode[] }[];
  /** `played_now`: episodes this run played (the wall time and rate are theirs); the others came from the journal (--resume). */
  totals: EvalReportData['totals'] & { played_now: number; skipped: number; failed: number; cost_note: string | null };
  /** Links to each episode's report, by task and seed. */
  reportHrefs: Map<string, string>;
}

export const hrefKey = (taskId: string, seed: number): string => `${taskId}/${seed}`;

const num = (value: number | null, digits = 4): string => (value === null || !Number.isFinite(value) ? '-' : value.toFixed(digits));
const signed = (value: number): string => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(4)}` : '-');
const interval = (i: MeanInterval): string => (Number.isFinite(i.mean) ? `${num(i.mean)} [${num(i.low)}, ${num(i.high)}]` : '-');
const difference = (i: MeanInterval): string => `${signed(i.mean)} [${signed(i.low)}, ${signed(i.high)}]`;

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => `  ${r.map((cell, c) => cell.padEnd(widths[c])).join('  ')}`.trimEnd());
}

/** The agent column's widest entry: a longer label (an llm's model name) is cut; the heading line names it whole. */
const MAX_AGENT_CELL = 20;

function agentCell(label: string): string {
  return label.length > MAX_AGENT_CELL ? `${label.slice(0, MAX_AGENT_CELL - 1)}…` : label;
}

/**
 * The per-task tables, within 80 columns: the scores of this agent (with its interval) and
 * of each reference, then this agent's effort per episode and its paired difference to each
 * reference on lines of their own (--json and --out have every figure).
 */
export function formatTables(results: EvalResults, agentKey: string): string {
  const level = Math.round(results.confidence.level * 100);
  const lines: string[] = [];
  for (const task of results.tasks) {
    const s = task.summary;
    const failed = s.failed > 0 ? `, ${s.failed} failed` : '';
    lines.push(...wrap(`${task.task_id}: ${s.episodes} episodes${failed}, seeds ${task.episodes.map((e) => e.seed).join(',')}`, '', '  '));
    const header = ['agent', 'n', `mean score [${level}% CI]`, 'median', 'min', 'max'];
    const own = [agentCell(agentKey), String(s.scored), interval(s.score), num(s.median), num(s.min), num(s.max)];
    const refs = task.comparisons.map((c) => [agentCell(`${c.policy} (reference)`), String(c.episodes), interval(c.score)]);
    lines.push(...table([header, own, ...refs]));
    const cost = s.mean_model_cost_usd === null ? '' : `, model $${num(s.mean_model_cost_usd, 5)}`;
    const seconds = s.mean_training_seconds === null ? '' : `, ${num(s.mean_training_seconds, 1)} s training`;
    lines.push(...wrap(`${agentKey} per episode: ${num(s.mean_epochs_used, 1)} epochs, ${num(s.mean_steps, 1)} steps${seconds}${cost}`, '  ', '    '));
    for (const c of task.comparisons) lines.push(...wrap(`difference to ${c.policy} [${level}% CI]: ${difference(c.difference)}`, '  ', '    '));
    lines.push('');
  }
  lines.push(...wrap(formatTotals(results), '', '  '));
  lines.push(
    ...wrap(
      `Intervals: ${level}% percentile bootstrap of the mean (${results.confidence.resamples} resamples, seed ${results.confidence.seed}); ` +
        'a difference is this agent minus the reference, paired by seed.',
      '',
      '  ',
    ),
  );
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, first: string, rest: string): string[] {
  return fill(text.split(/\s+/).filter((w) => w !== ''), first, rest, TERMINAL_WIDTH);
}

function formatTotals(results: EvalResults): string {
  const t = results.totals;
  const resumed = t.episodes - t.played_now;
  const rate = `${t.played_now} played in ${t.wall_seconds.toFixed(0)} s (${t.episodes_per_hour.toFixed(1)} per hour)`;
  const parts = [resumed > 0 ? `${t.episodes} episodes, ${resumed} from the journal, ${rate}` : `${t.episodes} episodes in ${t.wall_seconds.toFixed(0)} s (${t.episodes_per_hour.toFixed(1)} per hour)`];
  if (t.failed > 0) parts.push(`${t.failed} failed`);
  if (t.skipped > 0) parts.push(`${t.skipped} not started (--max-cost)`);
  if (t.cost_usd !== null) parts.push(`server cost $${t.cost_usd.toFixed(4)}${t.cost_note ? ` (${t.cost_note})` : ''}`);
  if (t.prompt_tokens !== null) parts.push(`tokens ${t.prompt_tokens} in / ${t.completion_tokens ?? 0} out`);
  if (t.model_cost_usd !== null) parts.push(`model cost $${t.model_cost_usd.toFixed(4)}`);
  return `Total: ${parts.join('; ')}`;
}

/** The --json summary line. */
export function summaryJson(results: EvalResults): Record<string, unknown> {
  return {
    type: 'summary',
    agent: results.agent,
    environment: results.environment,
    confidence: results.confidence,
    tasks: results.tasks.map((t) => ({ task_id: t.task_id, summary: t.summary, comparisons: t.comparisons })),
    totals: results.totals,
  };
}

/** The HTML report's data (EvalReportData, drawn by renderEvalReportHtml). */
export function evalReportData(results: EvalResults, generatedAt: Date): EvalReportData {
  const { played_now: _p, skipped: _s, failed: _f, cost_note: _n, ...totals } = results.totals;
  return {
    title: `Eval of ${[results.agent.policy, results.agent.model, results.agent.version && `@${results.agent.version}`].filter(Boolean).join(' ')}`,
    generated_at: generatedAt.toISOString(),
    agent: results.agent,
    environment: results.environment,
    command: results.command,
    confidence: results.confidence,
    totals,
    tasks: results.tasks.map((t) => ({
      task_id: t.task_id,
      max_epochs: t.max_epochs,
      summary: {
        episodes: t.summary.episodes,
        score: t.summary.score,
        median: t.summary.median,
        min: t.summary.min,
        max: t.summary.max,
        mean_epochs_used: t.summary.mean_epochs_used,
        mean_steps: t.summary.mean_steps,
        mean_training_seconds: t.summary.mean_training_seconds,
        mean_cost_usd: results.totals.cost_usd === null || results.totals.episodes === 0 ? null : results.totals.cost_usd / results.totals.episodes,
        mean_model_cost_usd: t.summary.mean_model_cost_usd,
      },
      comparisons: t.comparisons,
      episodes: t.episodes.map((e) => ({
        seed: e.seed,
        episode_id: e.episode_id,
        score: e.score,
        status: e.status,
        epochs_used: e.epochs_used,
        steps: e.steps,
        val_accuracy: e.val_accuracy,
        val_loss: e.val_loss,
        report_href: results.reportHrefs.get(hrefKey(t.task_id, e.seed)) ?? null,
        ...(e.error === undefined ? {} : { error: e.error }),
      })),
    })),
  };
}
