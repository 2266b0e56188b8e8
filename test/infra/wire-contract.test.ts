import Ajv, { type ValidateFunction } from 'ajv';
import { AGENT_POLICY_MAX_LENGTH, REQUEST_ID_MAX_LENGTH, STEP_REASON_MAX_LENGTH, TASK_ID_MAX_LENGTH, TOOL_NAME_MAX_LENGTH } from '../../layers/core/src';
import { http, storedServerForSuite } from '../server/harness';
import { SKIP_BUNDLING, resourcesOf, synthesize } from './synth';

/**
 * One wire contract: every edge value is accepted or refused alike by the local REST server
 * (the same routes the api Lambda serves) and by the request models of the synthesized API
 * Gateway, and the verdict is the one the contract states.
 */

type Route = 'createEpisode' | 'step';

interface EdgeCase {
  name: string;
  route: Route;
  body: Record<string, unknown>;
  accepted: boolean;
}

const TOOL = 'get_training_status';

const EDGE_CASES: EdgeCase[] = [
  ...[0, 2 ** 32 - 1, 2 ** 32, 5_000_000_000, 2 ** 53 - 1].map((seed) => ({ name: `seed ${seed}`, route: 'createEpisode' as const, body: { task_id: 'easy_mnist', seed }, accepted: true })),
  ...[2 ** 53, -1, 1.5].map((seed) => ({ name: `seed ${seed}`, route: 'createEpisode' as const, body: { task_id: 'easy_mnist', seed }, accepted: false })),
  { name: 'a string seed', route: 'createEpisode', body: { task_id: 'easy_mnist', seed: '7' }, accepted: false },
  { name: 'an unknown field', route: 'createEpisode', body: { task_id: 'easy_mnist', colour: 'red' }, accepted: false },
  { name: 'no task_id', route: 'createEpisode', body: { seed: 1 }, accepted: false },
  { name: 'task_id one over the limit', route: 'createEpisode', body: { task_id: 't'.repeat(TASK_ID_MAX_LENGTH + 1) }, accepted: false },
  { name: 'the longest tool name', route: 'step', body: { tool: 'x'.repeat(TOOL_NAME_MAX_LENGTH) }, accepted: true },
  { name: 'a tool name one over the limit', route: 'step', body: { tool: 'x'.repeat(TOOL_NAME_MAX_LENGTH + 1) }, accepted: false },
  { name: 'an empty tool name', route: 'step', body: { tool: '' }, accepted: false },
  { name: 'the longest request_id', route: 'step', body: { tool: TOOL, request_id: `R${'a-._:@=+'.repeat(16)}`.slice(0, REQUEST_ID_MAX_LENGTH) }, accepted: true },
  { name: 'a request_id one over the limit', route: 'step', body: { tool: TOOL, request_id: 'r'.repeat(REQUEST_ID_MAX_LENGTH + 1) }, accepted: false },
  { name: 'a request_id with a space', route: 'step', body: { tool: TOOL, request_id: 'step 1' }, accepted: false },
  { name: 'a request_id starting with a dash', route: 'step', body: { tool: TOOL, request_id: '-step' }, accepted: false },
  { name: 'arguments that are not an object', route: 'step', body: { tool: TOOL, arguments: [1] }, accepted: false },
  { name: 'an unknown field in a step', route: 'step', body: { tool: TOOL, timeout_s: 5 }, accepted: false },
  ...agentCases(),
  ...reasonCases(),
];

/** Who plays: the agent label on creation. */
function agentCases(): EdgeCase[] {
  const create = (name: string, agent: unknown, accepted: boolean): EdgeCase => ({ name, route: 'createEpisode', body: { task_id: 'easy_mnist', agent }, accepted });
  return [
    create('a full agent label', { policy: 'llm', model: 'gpt-4o-mini', version: 'prompt 7 ✓' }, true),
    create('the longest policy', { policy: 'p'.repeat(AGENT_POLICY_MAX_LENGTH) }, true),
    create('a policy one over the limit', { policy: 'p'.repeat(AGENT_POLICY_MAX_LENGTH + 1) }, false),
    create('an empty policy', { policy: '' }, false),
    create('a label without policy', { model: 'm' }, false),
    create('a label with an unknown field', { policy: 'p', admin: true }, false),
    create('a label with a control character', { policy: 'p', version: 'v\u001b[31m' }, false),
    create('a label with a newline', { policy: 'p\n' }, false),
    create('a label that is a string', 'llm', false),
    create('a label nested in a label', { policy: { policy: 'p' } }, false),
  ];
}

/** Why: a step's reason. */
function reasonCases(): EdgeCase[] {
  const step = (name: string, reason: unknown, accepted: boolean): EdgeCase => ({ name, route: 'step', body: { tool: TOOL, reason }, accepted });
  return [
    step('the longest reason', 'r'.repeat(STEP_REASON_MAX_LENGTH), true),
    step('a reason one over the limit', 'r'.repeat(STEP_REASON_MAX_LENGTH + 1), false),
    step('a reason over lines, with a tab', 'first\nsecond\tthird', true),
    step('an empty reason', '', true),
    step('a reason with an escape sequence', 'red \u001b[31m', false),
    step('a reason with a NUL', 'a\u0000b', false),
    step('a reason that is not text', ['why'], false),
  ];
}

/** Keywords whose meaning is the same in JSON Schema draft 4 (API Gateway) and draft 7 (ajv's default). */
const SHARED_KEYWORDS = new Set(['$schema', 'title', 'type', 'properties', 'required', 'additionalProperties', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern']);

function keywordsOf(schema: Record<string, any>): string[] {
  const nested = [
    ...Object.values((schema.properties ?? {}) as Record<string, any>),
    ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
  ];
  return [...Object.keys(schema), ...nested.flatMap(keywordsOf)];
}

/** The API Gateway model of each route, compiled from the synthesized template. */
function gatewayValidators(): Record<Route, ValidateFunction> {
  const synth = synthesize({ context: SKIP_BUNDLING });
  try {
    const models = Object.values(resourcesOf(synth.templates.api, 'AWS::ApiGateway::Model')).map((m) => m.Properties);
    const schemaOf = (name: string): Record<string, any> => models.find((m) => m.Name === name)!.Schema;
    const ajv = new Ajv({ allErrors: true });
    const compile = (schema: Record<string, any>): ValidateFunction => {
      expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(keywordsOf(schema).filter((k) => !SHARED_KEYWORDS.has(k))).toEqual([]);
      // ajv 8 does not know the draft-04 meta-schema; every keyword used means the same in draft 7.
      const { $schema: _draft, ...rest } = schema;
      return ajv.compile(rest);
    };
    return { createEpisode: compile(schemaOf('CreateEpisode')), step: compile(schemaOf('Step')) };
  } finally {
    synth.cleanup();
  }
}

describe('the wire contract: local REST and the synthesized API Gateway agree on every edge value', () => {
  const server = storedServerForSuite();
  let gateway: Record<Route, ValidateFunction>;
  let episodeId: string;
  beforeAll(async () => {
    gateway = gatewayValidators();
    episodeId = (await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' })).json.episode_id;
  });

  /** True unless the REST server refused the body itself (a 400 validation_error); an unknown tool is a step. */
  async function acceptedLocally(route: Route, body: Record<string, unknown>): Promise<boolean> {
    const path = route === 'createEpisode' ? '/v1/episodes' : `/v1/episodes/${episodeId}/steps`;
    const answer = await http('POST', `${server.base}${path}`, body);
    const refused = answer.status === 400 && answer.json.error.code === 'validation_error';
    if (!refused && route === 'createEpisode' && 'seed' in body) expect(answer.json.seed).toBe(body.seed);
    return !refused;
  }

  test.each(EDGE_CASES)('$name: accepted $accepted', async ({ route, body, accepted }) => {
    const wire = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
    const verdicts = { local: await acceptedLocally(route, wire), gateway: gateway[route](wire) };
    expect(verdicts).toEqual({ local: accepted, gateway: accepted });
  });
});
