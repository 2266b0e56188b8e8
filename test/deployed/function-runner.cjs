'use strict';
// One deployed function in its own Node process, as the Lambda Node.js runtime hosts it:
// loads the bundle (argv[2]) and calls its exported handler (argv[3], "index.handler")
// for each invocation the harness sends over the IPC channel. It also records which
// environment variables the code reads (process.env wrapped before the bundle loads), so
// that the harness can name a variable the code needs and the template does not set.
// Plain JavaScript: it is what `node` runs, outside jest's transform.
const path = require('node:path');
const { randomUUID } = require('node:crypto');

const [, , bundle, handlerSpec] = process.argv;
const reads = new Set();
const realEnv = process.env;
process.env = new Proxy(realEnv, {
  get(target, key) {
    if (typeof key === 'string') reads.add(key);
    return Reflect.get(target, key);
  },
  has(target, key) {
    if (typeof key === 'string') reads.add(key);
    return Reflect.has(target, key);
  },
});

const exportName = handlerSpec.split('.').pop();
let handler;
try {
  handler = require(path.resolve(bundle))[exportName];
  if (typeof handler !== 'function') throw new Error(`${bundle} exports no function ${exportName}`);
} catch (error) {
  process.send({ type: 'init-error', errorType: error.name, errorMessage: error.message, stack: error.stack });
  process.exit(1);
}

function context(spec) {
  const deadline = Date.now() + spec.timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: spec.functionArn,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: spec.requestId || randomUUID(),
    logGroupName: `/aws/lambda/${spec.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

process.on('message', async (message) => {
  if (message.type === 'env-reads') {
    process.send({ type: 'env-reads', id: message.id, names: [...reads].sort() });
    return;
  }
  if (message.type !== 'invoke') return;
  try {
    const result = await handler(message.event, context(message.context));
    process.send({ type: 'result', id: message.id, ok: true, result: result === undefined ? null : result });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    process.send({ type: 'result', id: message.id, ok: false, errorType: e.name, errorMessage: e.message, stack: e.stack });
  }
});
process.send({ type: 'ready' });
