import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/**
 * An API Gateway REST API proxy event exactly as API Gateway sends it to the api Lambda
 * (the shape of @types/aws-lambda's APIGatewayProxyEvent, as logged by a real stage), with
 * the API key's id in requestContext.identity.apiKeyId.
 */
export function apiGatewayEvent(
  method: string,
  path: string,
  options: { body?: unknown; apiKeyId?: string | null; query?: Record<string, string>; headers?: Record<string, string>; requestTimeEpoch?: number } = {},
): APIGatewayProxyEvent {
  const resource = path
    .replace(/^\/v1\/episodes\/[^/]+\/steps\/[^/]+$/, '/v1/episodes/{episode_id}/steps/{step_id}')
    .replace(/^\/v1\/episodes\/[^/]+\/steps$/, '/v1/episodes/{episode_id}/steps')
    .replace(/^\/v1\/episodes\/[^/]+$/, '/v1/episodes/{episode_id}');
  const segments = path.split('/');
  const pathParameters: Record<string, string> = {};
  if (resource.includes('{episode_id}')) pathParameters.episode_id = decodeURIComponent(segments[3]!);
  if (resource.includes('{step_id}')) pathParameters.step_id = decodeURIComponent(segments[5]!);
  const body = options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const apiKeyId = options.apiKeyId === undefined ? 'tenant-a' : options.apiKeyId;
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'jest',
    'X-Amzn-Trace-Id': 'Root=1-00000000-000000000000000000000000',
    'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...(apiKeyId ? { 'x-api-key': `key-value-of-${apiKeyId}` } : {}),
    ...(body !== null ? { 'Content-Type': 'application/json' } : {}),
    ...options.headers,
  };
  const query = options.query && Object.keys(options.query).length > 0 ? options.query : null;
  return {
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: apiKeyId ? `key-value-of-${apiKeyId}` : null,
        apiKeyId: apiKeyId ?? null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: null,
        userAgent: 'jest',
        userArn: null,
      },
      path: `/prod${path}`,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: options.requestTimeEpoch ?? Date.now(),
      resourceId: 'res123',
      resourcePath: resource,
    },
    body,
    isBase64Encoded: false,
  };
}
