import { LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiGatewayHandler, createApiApp, type ApiGatewayHandler } from '../../layers/cloud/src/api-app';
import { CloudEpisodeService, EpisodeQuota, episodeQuotaFromEnv, fastifyLoggerOf, type GradeInvoker, itemsOf, LambdaInvoker, Observability, pricesFromEnv, requiredEnv, stepRoutingFromEnv, traceStorage, type TrainingInvoker, usageReport } from '../../layers/cloud/src';
import { createStorageFromEnv, type Storage } from '../../layers/storage/src';

/**
 * The api Lambda: API Gateway REST proxy events → the REST API /v1 (layers/cloud/src/api-app.ts:
 * the local server's REST routes plus usage and step polling). A step that trains (run_epochs)
 * executes in the training Lambda (synchronously when short, asynchronously when long);
 * every other step (status, configuration, learning rate, augmentation, submission, any
 * rejected call) executes and commits here, its trainer calls left on the item for the next
 * training step (CloudEpisodeService). An ended episode is handed to the grade Lambda.
 * Everything is built on the first invocation.
 */
export interface ApiHandlerDeps {
  storage: Storage;
  training: TrainingInvoker;
  grade: GradeInvoker | null;
  env?: NodeJS.ProcessEnv;
  clock?: () => Date;
  newId?: () => string;
}

export function createApiHandler(deps: ApiHandlerDeps | ((obs: Observability) => ApiHandlerDeps)): ApiGatewayHandler {
  const obs = new Observability('ml-trainer-api');
  let proxy: ApiGatewayHandler | undefined;
  const build = (): ApiGatewayHandler => {
    const d = typeof deps === 'function' ? deps(obs) : deps;
    const env = d.env ?? process.env;
    traceStorage(d.storage, obs);
    const items = itemsOf(d.storage, d.clock);
    const logger = obs.logger;
    const quota = new EpisodeQuota(
      {
        documents: d.storage.clients.documents,
        tableName: d.storage.config.tableName,
        retentionSeconds: d.storage.config.retentionSeconds,
        ...(d.clock ? { clock: d.clock } : {}),
      },
      { defaultLimit: episodeQuotaFromEnv(env), logger },
    );
    const service = new CloudEpisodeService({
      episodes: d.storage.episodes,
      checkpoints: d.storage.checkpoints,
      items,
      training: d.training,
      grade: d.grade,
      routing: stepRoutingFromEnv(env),
      quota,
      ...(d.clock ? { clock: d.clock } : {}),
      ...(d.newId ? { newId: d.newId } : {}),
      logger,
      count: (metric) => obs.count(metric),
    });
    const prices = pricesFromEnv(env);
    const app = createApiApp({
      service,
      usage: async (tenant, range) => {
        const [report, episodeQuota] = await Promise.all([
          usageReport({ episodes: d.storage.episodes, metering: items.metering, prices }, tenant, range),
          quota.status(tenant),
        ]);
        return { ...report, episode_quota: episodeQuota };
      },
      logger: fastifyLoggerOf(obs.logger),
      ...(d.clock ? { clock: d.clock } : {}),
    });
    return apiGatewayHandler(app);
  };
  return (event: APIGatewayProxyEvent, context: Context) =>
    obs.invocation('api', context, async () => {
      proxy ??= build();
      const result = await proxy(event, context);
      obs.count(result.statusCode === 503 ? 'Http503' : `Http${Math.floor(result.statusCode / 100)}xx`); // 503s are deliberate (Retry-After): the Api5xx alarm leaves them out
      return result;
    });
}

function depsFromEnv(obs: Observability): ApiHandlerDeps {
  const env = process.env;
  const storage = createStorageFromEnv(env);
  const lambda = obs.captureClient(new LambdaClient({ region: storage.config.region }));
  return {
    storage,
    training: new LambdaInvoker(lambda, requiredEnv(env, 'TRAINING_FUNCTION_NAME')),
    grade: new LambdaInvoker(lambda, requiredEnv(env, 'GRADE_FUNCTION_NAME')),
    env,
  };
}

let configured: ApiGatewayHandler | undefined;

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  configured ??= createApiHandler(depsFromEnv);
  return configured(event, context);
}
