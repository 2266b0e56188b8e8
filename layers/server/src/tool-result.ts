import type { CoreErrorInfo } from '../../core/src';
import type { StepView } from '../../episodes/src';

/** OpenEnv's ToolError: exactly these two keys (the Python client forbids others). */
export interface ToolError {
  error_type: 'execution_error' | 'invalid_args' | 'transport_error' | 'tool_not_found' | 'timeout';
  message: string;
}

/** FastMCP's CallToolResult as OpenEnv puts it on the wire (§8.1): snake_case keys. */
export interface WireCallToolResult {
  content: { type: 'text'; text: string; annotations: null; meta: null }[];
  structured_content: Record<string, unknown>;
  meta: { episode_id: string; step: number; reward: number; done: boolean };
  data: Record<string, unknown>;
  is_error: boolean;
}

/** How OpenEnv would classify the failure (§8.2): unknown tool, invalid arguments, or anything else. */
export function toolErrorOf(error: CoreErrorInfo | null): ToolError | null {
  if (error === null) return null;
  const errorType = error.code === 'unknown_tool' ? 'tool_not_found' : error.code === 'invalid_arguments' ? 'invalid_args' : 'execution_error';
  return { error_type: errorType, message: error.message };
}

/**
 * The tool's return value (`data`) wrapped as a CallToolResult: `data` and
 * `structured_content` hold the object, `content[0].text` is it as compact JSON, `meta`
 * says which episode and step it was and the step's reward. `is_error` is true when the
 * environment rejected the call (the step still counted).
 */
export function callToolResult(step: StepView): WireCallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(step.data), annotations: null, meta: null }],
    structured_content: step.data,
    meta: { episode_id: step.episode_id, step: step.step, reward: step.reward, done: step.done },
    data: step.data,
    is_error: step.error !== null,
  };
}

/** A CallToolObservation (before serialisation: no reward/done/metadata inside). */
export function callToolObservation(step: StepView): { tool_name: string; result: WireCallToolResult; error: ToolError | null } {
  return { tool_name: step.tool, result: callToolResult(step), error: toolErrorOf(step.error) };
}
