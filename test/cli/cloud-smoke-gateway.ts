import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TrainerFactory } from '../../layers/core/src';
import type { DatasetCatalog } from '../../layers/datasets/src/dataset-catalog';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { tinyIdxTrainerFactory } from '../datasets/helpers/tiny-trainers';
import { startCloud, type Cloud } from '../functions/helpers';

/**
 * A deployed stack on loopback: API Gateway (a REST API with a stage, API keys) played by a
 * fastify server that turns each HTTP request into the proxy event API Gateway sends
 * (test/functions/api-gateway-event.ts) for the api Lambda handler of test/functions/helpers
 * (dynalite/s3rver, the training and grade handlers in-process, the real tfjs trainers on
 * the tiny official-format MNIST files synced from the datasets bucket).
 *
 * As API Gateway does: a request outside the stage's routes is 403 "Missing Authentication
 * Token", a key that is not in a usage plan 403 "Forbidden"; a known key's id becomes
 * requestContext.identity.apiKeyId (the tenant).
 */
export const STAGE = 'prod';

export interface Gateway {
  /** The ApiUrl output: the stage's base URL. */
  url: string;
  cloud: Cloud;
  /** Training invocations the trainer factory served: [create, restore]. */
  trainerCalls: { create: number; restore: number };
  close(): Promise<void>;
}

/** The real tfjs trainers on the tiny IDX files the handler synced from the bucket into the Lambda's data directory. */
function tinyDataTrainers(catalog: DatasetCatalog, calls: Gateway['trainerCalls']) {
  return async ({ dataDir }: { dataDir: string }): Promise<TrainerFactory> => tinyIdxTrainerFactory(dataDir, { catalog, calls });
}

function apiGatewayFront(cloud: Cloud, keys: Record<string, string>): FastifyInstance {
  const app = Fastify({ logger: false });
  // The body goes to the Lambda as API Gateway passes it: the raw text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.all('/*', async (request, reply) => {
    const url = new URL(request.url, 'http://gateway');
    const prefix = `/${STAGE}/`;
    if (!url.pathname.startsWith(`${prefix}v1/`)) {
      return reply.code(403).header('x-amzn-errortype', 'MissingAuthenticationTokenException').send({ message: 'Missing Authentication Token' });
    }
    const key = request.headers['x-api-key'];
    const apiKeyId = typeof key === 'string' ? keys[key] : undefined;
    if (apiKeyId === undefined) return reply.code(403).header('x-amzn-errortype', 'ForbiddenException').send({ message: 'Forbidden' });
    const body = typeof request.body === 'string' && request.body.length > 0 ? request.body : undefined;
    const answer = await cloud.api(request.method, url.pathname.slice(prefix.length - 1), {
      apiKeyId,
      ...(body === undefined ? {} : { body }),
      query: Object.fromEntries(url.searchParams),
      headers: { 'x-api-key': key as string },
    });
    for (const [name, value] of Object.entries(answer.raw.headers ?? {})) reply.header(name, String(value));
    return reply.code(answer.raw.statusCode).send(answer.raw.body);
  });
  return app;
}

export async function startGateway(options: {
  runtime: LocalRuntime;
  catalog: DatasetCatalog;
  lambdaDataDir: string;
  /** API key value → its id (the tenant). */
  keys: Record<string, string>;
  apiEnv?: NodeJS.ProcessEnv;
}): Promise<Gateway> {
  const trainerCalls = { create: 0, restore: 0 };
  const cloud = await startCloud({
    runtime: options.runtime,
    trainers: null,
    training: { catalog: options.catalog, loadTrainerFactory: tinyDataTrainers(options.catalog, trainerCalls), env: { ML_TRAINER_DATA_DIR: options.lambdaDataDir } },
    ...(options.apiEnv ? { apiEnv: options.apiEnv } : {}),
  });
  const app = apiGatewayFront(cloud, options.keys);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${STAGE}/`,
    cloud,
    trainerCalls,
    async close() {
      await app.close();
      await cloud.close();
    },
  };
}
