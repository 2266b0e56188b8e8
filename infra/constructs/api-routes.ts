import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { createEpisodeBodySchema, listEpisodesQuerySchema, stepBodySchema } from '../../layers/core/src';
import { WireContractModel } from './wire-contract-model';

/** The wire contract's request bodies, by API Gateway model name. */
const REQUEST_BODIES = { CreateEpisode: createEpisodeBodySchema, Step: stepBodySchema };

export interface ApiRoute {
  method: 'GET' | 'POST';
  path: string;
  /** Optional query string parameters API Gateway lets through. */
  query?: readonly string[];
  body?: keyof typeof REQUEST_BODIES;
}

/** The REST API's routes (all under /v1, all requiring an API key, all served by the api Lambda). */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/v1/tasks' },
  { method: 'GET', path: '/v1/tools' },
  { method: 'GET', path: '/v1/usage' },
  { method: 'GET', path: '/v1/episodes', query: Object.keys(listEpisodesQuerySchema.shape) },
  { method: 'POST', path: '/v1/episodes', body: 'CreateEpisode' },
  { method: 'GET', path: '/v1/episodes/{episode_id}' },
  { method: 'POST', path: '/v1/episodes/{episode_id}/steps', body: 'Step' },
  { method: 'GET', path: '/v1/episodes/{episode_id}/steps/{step_id}' },
];

type RequestModels = Record<keyof typeof REQUEST_BODIES, apigw.IModel>;

/**
 * Adds every route to the API, proxied to the integration. API Gateway validates what it can
 * before the Lambda runs: required path parameters, known query parameters, and bodies
 * against models generated from the wire contract.
 */
export function addApiRoutes(api: apigw.RestApi, integration: apigw.Integration): void {
  const validator = api.addRequestValidator('Validator', {
    requestValidatorName: 'body-and-parameters',
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  const models = requestModels(api);
  for (const route of API_ROUTES) {
    api.root.resourceForPath(route.path).addMethod(route.method, integration, methodOptions(route, validator, models));
  }
}

function requestModels(api: apigw.RestApi): RequestModels {
  const model = (modelName: keyof typeof REQUEST_BODIES) =>
    new WireContractModel(api, modelName, { restApi: api, modelName, body: REQUEST_BODIES[modelName] });
  return { CreateEpisode: model('CreateEpisode'), Step: model('Step') };
}

function methodOptions(route: ApiRoute, validator: apigw.IRequestValidator, models: RequestModels): apigw.MethodOptions {
  const parameters = requestParameters(route);
  if (Object.keys(parameters).length === 0 && route.body === undefined) return {};
  return {
    requestValidator: validator,
    ...(Object.keys(parameters).length > 0 ? { requestParameters: parameters } : {}),
    ...(route.body === undefined ? {} : { requestModels: { 'application/json': models[route.body] } }),
  };
}

/** Path parameters ({name} in the path) are required; query parameters are optional. */
function requestParameters(route: ApiRoute): Record<string, boolean> {
  const path = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [`method.request.path.${name}`, true] as const);
  const query = (route.query ?? []).map((name) => [`method.request.querystring.${name}`, false] as const);
  return Object.fromEntries([...path, ...query]);
}
