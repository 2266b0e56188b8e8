import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';
import { apiGatewaySchema } from '../../infra/constructs/api-gateway-schema';

describe('apiGatewaySchema: a zod schema as an API Gateway model schema (JSON Schema draft 4)', () => {
  test('converts nested objects, arrays and records, and marks the schema draft 4', () => {
    const body = z
      .object({
        name: z.string().min(1).max(8).regex(/^[a-z]+$/),
        count: z.number().int().min(0).max(10).optional(),
        tags: z.array(z.string()).max(3),
        extra: z.record(z.string(), z.unknown()),
      })
      .strict();
    expect(apiGatewaySchema(body)).toEqual({
      schema: apigw.JsonSchemaVersion.DRAFT4,
      type: apigw.JsonSchemaType.OBJECT,
      properties: {
        name: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 8, pattern: '^[a-z]+$' },
        count: { type: apigw.JsonSchemaType.INTEGER, minimum: 0, maximum: 10 },
        tags: { type: apigw.JsonSchemaType.ARRAY, maxItems: 3, items: { type: apigw.JsonSchemaType.STRING } },
        extra: { type: apigw.JsonSchemaType.OBJECT, additionalProperties: {} },
      },
      required: ['name', 'tags', 'extra'],
      additionalProperties: false,
    });
  });

  test('describes what a client may send: a field with a default is optional', () => {
    expect(apiGatewaySchema(z.object({ n: z.number().default(1) })).required).toBeUndefined();
  });

  test('refuses what a model cannot carry instead of dropping it', () => {
    interface Tree { children: Tree[] }
    const tree: z.ZodType<Tree> = z.object({ children: z.lazy(() => z.array(tree)) });
    expect(() => apiGatewaySchema(tree)).toThrow(/\$ref/);
    expect(() => apiGatewaySchema(z.date())).toThrow();
  });
});
