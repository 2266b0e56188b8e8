import { createHash } from 'node:crypto';
import type { ToolCall } from '../../core/src';

/** JSON with object keys sorted at every level: equal calls hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${Array.from(value, (v) => canonicalJson(v)).join(',')}]`; // Array.from visits holes too: null, as in JSON
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(byKey);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Orders entries by key. An object's keys are distinct, so equal keys never meet here. */
function byKey([a]: [string, unknown], [b]: [string, unknown]): number {
  // Stryker disable next-line EqualityOperator: with distinct keys, a < b and a <= b are the same test
  return a < b ? -1 : 1;
}

/** A call's identity for request_id reuse: the tool and its arguments (absent arguments are {} as the core reads them). */
export function callSha256(call: ToolCall): string {
  const args = call.arguments === undefined || call.arguments === null ? {} : call.arguments;
  return createHash('sha256').update(canonicalJson({ tool: call.tool, arguments: args })).digest('hex');
}
