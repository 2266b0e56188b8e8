import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';

type JsonObject = { [keyword: string]: unknown };

/** Keywords copied as they are (the same name and meaning in JSON Schema draft 4 and apigw.JsonSchema). */
const PLAIN_KEYWORDS = new Set([
  'title', 'description', 'enum', 'default', 'format', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties',
  'minProperties', 'required',
]);
/** Keywords whose value is a schema, a list of schemas, or (additionalProperties) a boolean. */
const SUBSCHEMA_KEYWORDS = new Set(['items', 'additionalItems', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf']);
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties']);
const SCHEMA_TYPES = new Set<string>(Object.values(apigw.JsonSchemaType));

/**
 * An API Gateway model schema for a request body: zod's JSON Schema draft 4 (the version API
 * Gateway validates with) of what the body may be on input, as apigw.JsonSchema. A keyword
 * API Gateway models cannot carry (a $ref, say) fails the synth instead of being dropped.
 */
export function apiGatewaySchema(body: z.ZodType): apigw.JsonSchema {
  return { ...convert(z.toJSONSchema(body, { target: 'draft-04', io: 'input' })), schema: apigw.JsonSchemaVersion.DRAFT4 };
}

function convert(schema: unknown): apigw.JsonSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error(`Not a JSON schema: ${JSON.stringify(schema)}`);
  const entries = Object.entries(schema as JsonObject)
    .filter(([keyword]) => keyword !== '$schema')
    .map(([keyword, value]) => [keyword, convertKeyword(keyword, value)]);
  return Object.fromEntries(entries) as apigw.JsonSchema;
}

function convertKeyword(keyword: string, value: unknown): unknown {
  if (keyword === 'type') return schemaType(value);
  if (PLAIN_KEYWORDS.has(keyword)) return value;
  if (SUBSCHEMA_KEYWORDS.has(keyword)) return convertSubschema(value);
  if (SCHEMA_MAP_KEYWORDS.has(keyword)) {
    return Object.fromEntries(Object.entries(value as JsonObject).map(([name, subschema]) => [name, convert(subschema)]));
  }
  throw new Error(`JSON Schema keyword ${keyword} has no API Gateway model equivalent here.`);
}

function convertSubschema(value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  return Array.isArray(value) ? value.map(convert) : convert(value);
}

function schemaType(value: unknown): apigw.JsonSchemaType | apigw.JsonSchemaType[] {
  const types = Array.isArray(value) ? value : [value];
  for (const type of types) {
    if (typeof type !== 'string' || !SCHEMA_TYPES.has(type)) throw new Error(`Unknown JSON Schema type ${JSON.stringify(type)}.`);
  }
  return value as apigw.JsonSchemaType | apigw.JsonSchemaType[];
}
