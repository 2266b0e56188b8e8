import type { z } from 'zod';
import { CoreError } from './core-error';
import { ECHO_MAX_CHARS } from './echoed-input';
import { describeTools, isToolName, TOOL_NAMES, TOOLS, type ToolArguments, type ToolName } from './tool-catalogue';

let allowedByTool: Map<string, Record<string, unknown>> | undefined;

/** Each tool's per-argument JSON Schema, used to say what an argument allows. */
function argumentSchemas(tool: ToolName): Record<string, Record<string, unknown>> {
  allowedByTool ??= new Map(describeTools().map((t) => [t.name, t.input_schema.properties as Record<string, unknown>]));
  return (allowedByTool.get(tool) ?? {}) as Record<string, Record<string, unknown>>;
}

// Every argument of every tool has a description (test/core/tool-arguments.test.ts checks it),
// and the tool schemas are plain objects without object-level refinements, so every issue names
// an argument: the fallbacks below are for a future tool, and no test can reach them today.
function describeAllowed(property: Record<string, unknown> | undefined): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: unreachable today (see above)
  if (!property) return 'see the tool schema';
  // Stryker disable next-line ConditionalExpression: unreachable today (see above)
  if (typeof property.description === 'string') return property.description.replace(/\.$/, '');
  return JSON.stringify(property);
}

const QUOTED_VALUE_LIMIT = ECHO_MAX_CHARS;

/** A value as the agent sent it, cut short: an error message must not grow with the input. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= QUOTED_VALUE_LIMIT ? text : `${text.slice(0, QUOTED_VALUE_LIMIT)}… (${text.length} characters)`;
}

function issueMessage(tool: ToolName, issue: z.core.$ZodIssue, args: Record<string, unknown>): string {
  const schemas = argumentSchemas(tool);
  if (issue.code === 'unrecognized_keys') {
    const names = Object.keys(schemas);
    const accepted = names.length > 0 ? `accepted arguments: ${names.join(', ')}` : 'it takes no arguments';
    return `unknown argument${issue.keys.length > 1 ? 's' : ''} ${issue.keys.slice(0, 5).map(shortJson).join(', ')}${issue.keys.length > 5 ? ', …' : ''} (${accepted})`;
  }
  const field = String(issue.path[0]);
  const got = field in args ? shortJson(args[field]) : 'nothing';
  return `${field} is invalid (got ${got}); allowed: ${describeAllowed(schemas[field])}`;
}

/**
 * Validates a tool's arguments against its schema and fills in defaults. An invalid
 * call is an error naming each bad field and what it allows.
 */
export function parseToolArguments<N extends ToolName>(tool: N, raw: unknown): ToolArguments<N> {
  const args = raw === undefined || raw === null ? {} : raw;
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new CoreError('invalid_arguments', `${tool}: arguments must be a JSON object, got ${Array.isArray(args) ? 'an array' : typeof args}.`);
  }
  const parsed = TOOLS[tool].schema.safeParse(args);
  if (parsed.success) return parsed.data as ToolArguments<N>;
  const record = args as Record<string, unknown>;
  const messages = parsed.error.issues.map((issue) => issueMessage(tool, issue, record));
  const first = parsed.error.issues[0];
  const field = (first.code === 'unrecognized_keys' ? first.keys[0] : String(first.path[0])).slice(0, QUOTED_VALUE_LIMIT);
  throw new CoreError('invalid_arguments', `${tool}: ${messages.join('; ')}.`, {
    field,
    allowed: argumentSchemas(tool)[field] ?? Object.keys(argumentSchemas(tool)),
  });
}

export function assertToolName(name: unknown): asserts name is ToolName {
  if (!isToolName(name)) {
    throw new CoreError('unknown_tool', `Unknown tool ${shortJson(name)}; available tools: ${TOOL_NAMES.join(', ')}.`, {
      field: 'tool',
      allowed: [...TOOL_NAMES],
    });
  }
}
