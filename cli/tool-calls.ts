import { STEP_REASON_MAX_LENGTH, stepReasonSchema, type ToolCall } from '../layers/core/src';
import { UsageError } from './command';

/** A scripted tool call: {"tool": name, "arguments": {...}, "reason"?: why}. The core validates the tool and its arguments. */
export function parseToolCall(value: unknown, where: string): ToolCall {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where} must be an object {"tool": ..., "arguments": {...}}`);
  }
  const { tool, arguments: args, reason, ...rest } = value as Record<string, unknown>;
  if (typeof tool !== 'string') throw new UsageError(`${where}.tool must be a string (a tool name)`);
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new UsageError(`${where} has unknown keys ${extra.join(', ')}; allowed: tool, arguments, reason`);
  if (reason !== undefined && !stepReasonSchema.safeParse(reason).success) {
    throw new UsageError(`${where}.reason must be text of at most ${STEP_REASON_MAX_LENGTH} characters without control characters other than newline and tab`);
  }
  return { tool, ...(args === undefined ? {} : { arguments: args }), ...(reason === undefined ? {} : { reason: reason as string }) };
}

export function parseToolCalls(value: unknown, where: string): ToolCall[] {
  if (!Array.isArray(value)) throw new UsageError(`${where} must be a JSON array of {"tool", "arguments"} objects`);
  return value.map((item, i) => parseToolCall(item, `${where}[${i}]`));
}
