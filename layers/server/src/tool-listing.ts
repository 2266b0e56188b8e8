import { describeTools } from '../../core/src';

/** A tool as OpenEnv's ListToolsObservation carries it (§7): exactly these three keys, snake_case. */
export interface OpenEnvTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

/** A tool as JSON-RPC tools/list returns it (§6, the full MCP Tool with camelCase inputSchema). */
export interface JsonRpcTool {
  name: string;
  title: string | null;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  icons: null;
  annotations: null;
  meta: null;
  execution: null;
}

/** Every tool returns a JSON object, as the reference's dict-returning tools do. */
const OBJECT_OUTPUT_SCHEMA = { additionalProperties: true, type: 'object' } as const;

export function openEnvTools(): OpenEnvTool[] {
  return describeTools().map(({ name, description, input_schema }) => ({ name, description, input_schema }));
}

export function jsonRpcTools(): JsonRpcTool[] {
  return describeTools().map(({ name, description, input_schema }) => ({
    name,
    title: null,
    description,
    inputSchema: input_schema,
    outputSchema: { ...OBJECT_OUTPUT_SCHEMA },
    icons: null,
    annotations: null,
    meta: null,
    execution: null,
  }));
}
