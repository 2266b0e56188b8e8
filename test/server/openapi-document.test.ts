import { z } from 'zod';
import { createEpisodeBodySchema, ID_PARAMETER_MAX_LENGTH, LIST_EPISODES_MAX_LIMIT, SEED_MAX, stepBodySchema } from '../../layers/core/src';
import { openApiDocument } from '../../layers/server/src/openapi-document';
import type { ServerContext } from '../../layers/server/src/server-context';

type Json = Record<string, any>;

const document = openApiDocument({ standardMcpPath: '/mcp/stream' } as ServerContext) as Json;
const bodyOf = (path: string, method = 'post'): Json => document.paths[path][method].requestBody.content['application/json'].schema;

/** Every schema object in the document, nested ones included. */
function schemasIn(value: unknown, found: Json[] = []): Json[] {
  if (typeof value !== 'object' || value === null) return found;
  if (Array.isArray(value)) {
    for (const item of value) schemasIn(item, found);
    return found;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'schema' && typeof child === 'object' && child !== null) found.push(child as Json);
    schemasIn(child, found);
  }
  return found;
}

describe('GET /openapi.json describes the REST bodies with the wire contract', () => {
  it('declares OpenAPI 3.1, whose schemas are JSON Schema 2020-12 without a $schema of their own', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const schema of schemasIn(document.paths)) expect(schema).not.toHaveProperty('$schema');
  });

  it('POST /v1/episodes and POST /v1/episodes/{id}/steps take the contract schemas as they are', () => {
    const contract = (schema: z.ZodType) => {
      const json = z.toJSONSchema(schema, { io: 'input' }) as Json;
      delete json.$schema;
      return json;
    };
    expect(bodyOf('/v1/episodes')).toEqual(contract(createEpisodeBodySchema));
    expect(bodyOf('/v1/episodes/{id}/steps')).toEqual(contract(stepBodySchema));
  });

  it('states the contract limits: the seed range, the list limit and the id parameter length', () => {
    expect(bodyOf('/v1/episodes').properties.seed).toMatchObject({ type: 'integer', minimum: 0, maximum: SEED_MAX });
    const listParameters = document.paths['/v1/episodes'].get.parameters as Json[];
    expect(listParameters.map((p) => p.name)).toEqual(['limit', 'cursor']);
    expect(listParameters[0]).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: LIST_EPISODES_MAX_LIMIT } });
    const idParameter = document.paths['/v1/episodes/{id}'].get.parameters[0] as Json;
    expect(idParameter).toMatchObject({ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: ID_PARAMETER_MAX_LENGTH } });
  });

  it('the OpenEnv /reset and /step bodies are the OpenEnv request schemas (nullable seed, extra keys allowed)', () => {
    const reset = bodyOf('/reset');
    expect(reset.properties.seed.anyOf).toEqual(expect.arrayContaining([{ type: 'null' }, expect.objectContaining({ maximum: SEED_MAX })]));
    expect(bodyOf('/step')).toMatchObject({ type: 'object', required: ['action'] });
    expect(bodyOf('/step').additionalProperties).toEqual({});
  });
});
