import { createEpisodeBodySchema, idParameterSchema, listEpisodesQuerySchema, stepBodySchema, stepProgressSchema } from '../../core/src';
import { httpResetRequestSchema, httpStepRequestSchema } from './openenv-messages';
import { openApiSchema, queryParameters } from './openapi-schema';
import type { ServerContext } from './server-context';

const json = (schema: Record<string, unknown>, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});

const object = { type: 'object', additionalProperties: true };
const envelope = {
  type: 'object',
  properties: { observation: object, reward: { type: ['number', 'null'] }, done: { type: 'boolean' } },
  required: ['observation', 'done'],
};
const restError = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: object } } },
};
const episodeIdParam = { name: 'id', in: 'path', required: true, schema: openApiSchema(idParameterSchema) };
const stepIdParam = { name: 'step_id', in: 'path', required: true, schema: openApiSchema(idParameterSchema) };
/** A step still running (or, on the cloud, queued): where to poll it and the epochs done so far. */
const pendingStep = {
  type: 'object',
  properties: {
    step_id: { type: 'string' },
    status: { enum: ['pending', 'running'] },
    poll: { type: 'string' },
    requested_at: { type: 'string' },
    deadline_at: { type: 'string' },
    progress: openApiSchema(stepProgressSchema),
  },
  required: ['step_id', 'status', 'poll', 'requested_at', 'deadline_at'],
};
const jsonBody = (schema: Record<string, unknown>, required = true) => ({ required, content: { 'application/json': { schema } } });

/**
 * GET /openapi.json. `openenv validate` reads info.version (a string) and requires
 * /reset, /step and /state in paths ("simulation" profile).
 */
export function openApiDocument(ctx: ServerContext): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'OpenEnv Environment HTTP API',
      version: '1.0.0',
      description:
        `ML Training Optimizer environment. OpenEnv routes (/reset, /step, /state, /ws, /mcp), standard MCP at ${ctx.standardMcpPath}, ` +
        'and the REST API under /v1. The tenant comes from the x-tenant-id header (default "local").',
    },
    paths: {
      '/health': { get: { summary: 'Health', responses: { 200: json({ type: 'object', properties: { status: { const: 'healthy' } } }) } } },
      '/metadata': { get: { summary: 'Environment metadata', responses: { 200: json(object) } } },
      '/schema': { get: { summary: 'Action, observation and state JSON Schemas', responses: { 200: json(object) } } },
      '/reset': {
        post: {
          summary: 'Start an episode',
          description: 'Body: {task_id?, seed?, agent?}; agent says who plays ({policy, model?, version?}). The episode id is in observation.metadata.episode_id.',
          requestBody: jsonBody(openApiSchema(httpResetRequestSchema), false),
          responses: { 200: json(envelope), 422: json(object, 'Validation error') },
        },
      },
      '/step': {
        post: {
          summary: 'Execute an action (a tool call is a step)',
          description:
            'Body: {action, episode_id?, request_id?, timeout_s?}; a call_tool action may carry the agent\'s reason (action.reason or action.metadata.reason), stored with the step. ' +
            'Without episode_id: the episode of the last /reset of this tenant.',
          requestBody: jsonBody(openApiSchema(httpStepRequestSchema)),
          responses: { 200: json(envelope), 404: json(object, 'Unknown episode'), 409: json(object, 'No episode'), 422: json(object, 'Validation error') },
        },
      },
      '/state': {
        get: {
          summary: 'State of an episode',
          parameters: [{ name: 'episode_id', in: 'query', required: false, schema: openApiSchema(idParameterSchema) }],
          responses: { 200: json({ type: 'object', properties: { episode_id: { type: ['string', 'null'] }, step_count: { type: 'integer' } } }) },
        },
      },
      '/mcp': { post: { summary: 'OpenEnv JSON-RPC 2.0 (tools/list, tools/call with params._meta.reason, openenv/session/create with agent, openenv/session/close)', requestBody: jsonBody(object), responses: { 200: json(object) } } },
      [ctx.standardMcpPath]: { post: { summary: 'Standard MCP, Streamable HTTP transport', responses: { 200: { description: 'JSON-RPC response or SSE stream' } } } },
      '/v1/tasks': { get: { summary: 'The tasks', responses: { 200: json(object) } } },
      '/v1/tools': { get: { summary: 'The tools and their argument schemas', responses: { 200: json(object) } } },
      '/v1/episodes': {
        get: {
          summary: 'List episodes',
          parameters: queryParameters(listEpisodesQuerySchema),
          responses: { 200: json(object), 400: json(restError, 'Bad request') },
        },
        post: {
          summary: 'Start an episode',
          description: 'agent (optional) says who plays: {policy, model?, version?}; stored with the episode, listed, grouped by in reports.',
          requestBody: jsonBody(openApiSchema(createEpisodeBodySchema)),
          responses: { 201: json(object, 'Created'), 400: json(restError, 'Bad request') },
        },
      },
      '/v1/episodes/{id}': { get: { summary: 'An episode: record, grade, usage', parameters: [episodeIdParam], responses: { 200: json(object), 404: json(restError, 'Not found') } } },
      '/v1/episodes/{id}/steps': {
        post: {
          summary: 'Execute a tool call (a step)',
          description: "reason (optional) is the agent's short reason for the call, stored with the step; a replayed request_id keeps the first one's.",
          parameters: [episodeIdParam],
          requestBody: jsonBody(openApiSchema(stepBodySchema)),
          responses: { 200: json(object), 400: json(restError, 'Bad request'), 404: json(restError, 'Not found'), 409: json(restError, 'Conflict') },
        },
      },
      '/v1/episodes/{id}/steps/{step_id}': {
        get: {
          summary: 'A step by its request_id: 202 while it runs, with the epochs done so far',
          description: 'Here a step runs inside its POST: 202 while that is in flight, 404 afterwards (the POST carried the answer). The cloud answers 200 with the step once committed.',
          parameters: [episodeIdParam, stepIdParam],
          responses: { 200: json(object), 202: json(pendingStep, 'Pending or running'), 404: json(restError, 'Not found') },
        },
      },
    },
  };
}
