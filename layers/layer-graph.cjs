/**
 * Which layer may import which: the one place the project's architecture is declared
 * (.dependency-cruiser.cjs turns it into rules; the README's Layout section draws it).
 * An arrow means "may import through its index.ts"; a layer not listed may not be imported.
 */
/** layer -> the layers it may import. */
const LAYERS = {
  core: [],
  testing: ['core'],
  datasets: ['core'],
  storage: ['core'],
  training: ['core', 'datasets'],
  episodes: ['core', 'storage'],
  runtime: ['core', 'datasets', 'training'],
  agent: ['core'],
  reports: ['core', 'episodes'],
  server: ['core', 'episodes', 'reports', 'storage'],
  cloud: ['core', 'datasets', 'storage', 'episodes', 'reports', 'server'],
  bench: ['core', 'datasets', 'training', 'runtime'],
};

/** Entry points outside layers/ -> the layers they may import. */
const ENTRIES = {
  functions: ['core', 'datasets', 'storage', 'cloud', 'runtime'],
  infra: ['core', 'storage', 'cloud'],
  cli: ['core', 'testing', 'datasets', 'storage', 'episodes', 'runtime', 'agent', 'reports', 'server', 'cloud', 'bench'],
};

/**
 * Entry points besides a layer's index.ts, for code that must not load the whole layer:
 * - cloud/api-app: the api Lambda's fastify app (the other functions do not bundle fastify);
 * - server/rest: the REST routes without the WebSocket, MCP and dashboard routes (the api Lambda's bundle);
 * - storage/local-runtime: dynalite and s3rver (never in a Lambda bundle, so not in the index);
 * - training/without-tensorflow: what a process may use before (or without) loading TensorFlow
 *   (its thread count is fixed when tfjs-node loads; a trainer-worker parent never loads it).
 */
const SECONDARY_ENTRIES = {
  cloud: ['api-app'],
  server: ['rest'],
  storage: ['local-runtime'],
  training: ['without-tensorflow'],
};

module.exports = { LAYERS, ENTRIES, SECONDARY_ENTRIES };
