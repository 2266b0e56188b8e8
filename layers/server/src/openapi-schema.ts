import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/**
 * A request schema as JSON Schema 2020-12 of what a client may send (OpenAPI 3.1's own
 * dialect, and MCP's tool input schemas): the documents say what the routes parse.
 */
export function openApiSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** The query parameters of an object schema, one per property (required as the schema says). */
export function queryParameters(query: z.ZodObject): JsonSchema[] {
  const json = openApiSchema(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: (json.required ?? []).includes(name),
    schema,
  }));
}
