import type { EpisodeRecord, StepResult } from '../layers/core/src';
import { fill, TERMINAL_WIDTH } from './help-text';

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

/** One step as the terminal shows it, however it was played (run, step, agent in-process or remote). */
export interface StepView {
  step: number;
  tool: string;
  arguments: unknown;
  reward: number;
  /** What the tool returned: the observation fields and tool-specific ones. */
  data: Record<string, unknown>;
  error: { message: string } | null;
  reason?: string;
  replayed?: boolean;
}

export function stepViewOf(result: StepResult): StepView {
  const logged = result.record.steps.at(-1);
  return {
    step: result.record.step_count,
    tool: result.tool,
    arguments: logged?.arguments ?? {},
    reward: result.reward,
    data: result.data,
    error: result.error,
    ...(logged?.reason === undefined ? {} : { reason: logged.reason }),
  };
}

/** A step from the JSON line of `ml-trainer step --json` and the record it saved. */
export function stepViewOfLine(line: Record<string, unknown>, record: EpisodeRecord): StepView {
  const logged = record.steps.at(-1);
  const data = line.observation as Record<string, unknown>;
  return {
    step: Number(line.step),
    tool: String(line.tool),
    arguments: logged?.arguments ?? {},
    reward: Number(line.reward),
    data,
    error: (data.error as { message: string } | undefined) ?? null,
    ...(logged?.reason === undefined ? {} : { reason: logged.reason }),
  };
}

const INDENT = '     ';
/** A longer argument value (a script's junk) is cut: the step line is for reading, --json has it whole. */
const MAX_VALUE = 40;

/** "step  2 run_epochs num_epochs=4" (wrapped), then its outcome and the reason, each line within `width` columns. */
export function describeStep(view: StepView, width = TERMINAL_WIDTH): string {
  const head = `step ${String(view.step).padStart(2)} ${view.tool}`;
  const lines = fill([head, ...argumentWords(view.arguments)], '', ' '.repeat(8), width);
  const reward = `reward ${view.reward >= 0 ? '+' : ''}${view.reward.toFixed(4)}`;
  if (view.error) {
    lines.push(...fill([`${reward} `, ...words(`refused: ${refusalText(view)}`)], INDENT, `${INDENT}  `, width));
  } else {
    lines.push(...fill(stateParts(view, reward), INDENT, INDENT, width));
  }
  if (view.reason) lines.push(...fill(words(`why: ${view.reason}`), INDENT, `${INDENT}     `, width));
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** Why the environment refused the call (validation messages start with the tool's name, which the line gives). */
export function refusalText(view: StepView): string {
  const message = view.error?.message ?? '';
  return message.startsWith(`${view.tool}: `) ? message.slice(view.tool.length + 2) : message;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Parts joined by two spaces that stay whole on one line. */
function stateParts(view: StepView, reward: string): string[] {
  const d = view.data;
  const acc = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : String(v));
  const parts = [
    reward,
    `epoch ${d.current_epoch}/${d.max_epochs}`,
    `val_acc ${acc(d.val_accuracy)}`,
    `best ${acc(d.best_val_accuracy)} @${d.best_val_epoch}`,
    String(d.convergence_signal),
    ...(view.replayed ? ['(replayed)'] : []),
  ];
  return parts.map((p, i) => (i < parts.length - 1 ? `${p} ` : p));
}

function argumentWords(args: unknown): string[] {
  if (args === undefined || args === null) return [];
  if (typeof args !== 'object' || Array.isArray(args)) return [cut(JSON.stringify(args))];
  return Object.entries(args as Record<string, unknown>).map(([k, v]) => `${k}=${cut(typeof v === 'string' ? v : JSON.stringify(v))}`);
}

function cut(text: string): string {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}
