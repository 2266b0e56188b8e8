import { createHash } from 'node:crypto';
import type { ToolCall } from '../../core/src';

/** JSON with object keys sorted at every level: equal calls hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A call's identity for request_id reuse: the tool and its arguments (absent arguments are {} as the core reads them). */
export function callSha256(call: ToolCall): string {
  const args = call.arguments === undefined || call.arguments === null ? {} : call.arguments;
  return createHash('sha256').update(canonicalJson({ tool: call.tool, arguments: args })).digest('hex');
}
