import { dirname } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createApiHandler } from '../../functions/api/handler';
import { createGradeHandler } from '../../functions/grade/handler';
import { createTrainingHandler, type TrainingHandlerDeps } from '../../functions/training/handler';
import { InProcessInvoker, lambdaContext, type TrainingInvoker } from '../../layers/cloud/src/invokers';
import type { TrainingStepEvent } from '../../layers/cloud/src/training-protocol';
import type { Trainer, TrainerFactory } from '../../layers/core/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { callSha256 } from '../../layers/episodes/src/call-identity';
import { apiGatewayEvent } from './api-gateway-event';

export { apiGatewayEvent };

/*
 * fastify.inject (what @fastify/aws-lambda runs every API Gateway event through) loads
 * light-my-request, which requires cookie@2, an ES module that jest's CommonJS runtime cannot
 * load on Node 20 (Node itself can, and the esbuild bundle of the api Lambda has it inlined).
 * light-my-request uses it only for inject's `cookies` option, which the Lambda adapter never
 * passes; in this process it is replaced by a stub that says so.
 */
jest.doMock(require.resolve('cookie', { paths: [dirname(require.resolve('light-my-request'))] }), () => ({
  stringifySetCookie: () => {
    throw new Error('inject({cookies}) is not used by the api Lambda');
  },
}));

// Quiet Powertools in tests (no EMF lines, no log lines); the Tracer is off outside Lambda anyway.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.LOG_LEVEL = 'SILENT';

/** A clock the test moves: starts now, changes only when told to. */
export function testClock(start = Date.now()) {
  let t = start;
  const clock = () => new Date(t);
  return Object.assign(clock, {
    advance(ms: number) {
      t += ms;
    },
    set(iso: string) {
      t = Date.parse(iso);
    },
  });
}

/** A monotonic clock that advances `stepMs` on every reading: each training invocation is billed exactly stepMs. */
export function billingClock(stepMs: number) {
  let t = 0;
  return () => {
    const now = t;
    t += stepMs;
    return now;
  };
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  json: any;
  raw: APIGatewayProxyResult;
}

/**
 * Wraps a trainer factory so that trainEpoch waits for the gate to open (steps that stay
 * "running"); each training and validation pass reports passSeconds (the episode's measured
 * rate, which the api's duration estimate uses once the episode has trained).
 */
export function gatedFactory(base: TrainerFactory = formulaTrainerFactory, passSeconds = 0.5) {
  let open!: () => void;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const counts = { create: 0, restore: 0, trainEpoch: 0 };
  let failNext = false;
  const wrap = (inner: Trainer): Trainer => ({
    buildModel: (c) => inner.buildModel(c),
    applyConfig: (c, o) => inner.applyConfig(c, o),
    setAugmentation: (s) => inner.setAugmentation(s),
    async trainEpoch(lr) {
      counts.trainEpoch++;
      await gate;
      if (failNext) {
        failNext = false;
        throw new Error('simulated trainer fault (out of memory)');
      }
      return { ...(await inner.trainEpoch(lr)), seconds: passSeconds };
    },
    evaluate: async () => ({ ...(await inner.evaluate()), seconds: passSeconds }),
    keepBestWeights: () => inner.keepBestWeights(),
    saveCheckpoint: () => inner.saveCheckpoint(),
    dispose: () => inner.dispose(),
  });
  const factory: TrainerFactory = {
    async create(spec) {
      counts.create++;
      return wrap(await base.create(spec));
    },
    async restore(spec, checkpoint) {
      counts.restore++;
      return wrap(await base.restore(spec, checkpoint));
    },
  };
  return {
    factory,
    counts,
    open: () => open(),
    close: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    failNextEpoch: () => {
      failNext = true;
    },
  };
}

/**
 * Lambda's asynchronous queue, made visible: asynchronous invocations wait here until
 * release() (or are dropped, as a lost event would be); synchronous ones go straight through.
 */
export class QueuedInvoker implements TrainingInvoker {
  readonly queued: TrainingStepEvent[] = [];
  constructor(private readonly inner: TrainingInvoker) {}
  invokeSync(event: TrainingStepEvent, options: { timeoutMs: number }) {
    return this.inner.invokeSync(event, options);
  }
  async invokeAsync(event: TrainingStepEvent): Promise<void> {
    this.queued.push(event);
  }
  async release(): Promise<void> {
    for (const event of this.queued.splice(0)) await this.inner.invokeAsync(event);
  }
  drop(): void {
    this.queued.splice(0);
  }
}

export interface CloudOptions {
  /** The trainers of the training Lambda (default: the formula trainer; null: the handler's lazy real trainers). */
  trainers?: TrainerFactory | null;
  training?: Partial<TrainingHandlerDeps>;
  /** Environment of the api Lambda (SYNC_STEP_BUDGET_MS, prices, …). */
  apiEnv?: NodeJS.ProcessEnv;
  clock?: () => Date;
  /** Milliseconds the api Lambda has left when invoked (its timeout is 29 s). */
  apiTimeoutMs?: number;
  trainingMemoryMb?: number;
  /** Billing clock of the training Lambda (default: each invocation billed 250 ms). */
  monotonicMs?: () => number;
  runtime?: LocalRuntime;
  /** Holds asynchronous training invocations until released (see QueuedInvoker). */
  queueAsync?: boolean;
  /** What the api Lambda invokes the training Lambda through, around the in-process one (e.g. one that refuses). */
  wrapTraining?: (inner: TrainingInvoker) => TrainingInvoker;
}

/**
 * The deployment in one process: dynalite + s3rver on loopback, the training and grade
 * handlers called in-process through the invoker ports (events JSON round-tripped, Lambda
 * contexts with the configured memory), the api handler fed real API Gateway events.
 */
export async function startCloud(options: CloudOptions = {}) {
  const runtime = options.runtime ?? (await startLocalRuntime());
  const memoryMb = options.trainingMemoryMb ?? 10240;
  const trainingHandler = createTrainingHandler({
    storage: runtime,
    ...(options.trainers === null ? {} : { trainers: options.trainers ?? formulaTrainerFactory }),
    ...(options.clock ? { clock: options.clock } : {}),
    monotonicMs: options.monotonicMs ?? billingClock(250),
    ...options.training,
  });
  const training = new InProcessInvoker(trainingHandler, () => lambdaContext({ functionName: 'training', memoryMb, timeoutMs: 15 * 60_000 }));
  const gradeHandler = createGradeHandler({ storage: runtime, ...(options.clock ? { clock: options.clock } : {}) });
  const grade = new InProcessInvoker(gradeHandler, () => lambdaContext({ functionName: 'grade', memoryMb: 512 }));
  const apiEnv: NodeJS.ProcessEnv = { TRAINING_MEMORY_MB: String(memoryMb), ...options.apiEnv };
  const queue = options.queueAsync ? new QueuedInvoker(training) : null;
  const apiHandler = createApiHandler({
    storage: runtime,
    training: options.wrapTraining ? options.wrapTraining(queue ?? training) : (queue ?? training),
    grade,
    env: apiEnv,
    ...(options.clock ? { clock: options.clock } : {}),
  });

  async function api(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      apiKeyId?: string | null;
      query?: Record<string, string>;
      headers?: Record<string, string>;
      timeoutMs?: number;
      /** When API Gateway received the request (default now): an earlier time is a cold start or a slow client already spent. */
      requestTimeEpoch?: number;
    } = {},
  ): Promise<ApiAnswer> {
    const event = apiGatewayEvent(method, path, opts);
    const raw = await apiHandler(event, lambdaContext({ functionName: 'api', memoryMb: 1024, timeoutMs: opts.timeoutMs ?? options.apiTimeoutMs ?? 29_000 }));
    let json: unknown;
    try {
      json = raw.body ? JSON.parse(raw.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: raw.statusCode, headers: (raw.headers ?? {}) as Record<string, string>, json, raw };
  }

  return {
    runtime,
    api,
    training,
    queue,
    grade,
    trainingHandler,
    gradeHandler,
    async close() {
      await training.drain();
      await grade.drain();
      if (!options.runtime) await runtime.close();
    },
  };
}

export type Cloud = Awaited<ReturnType<typeof startCloud>>;

/** A synchronous training event for `call`, as the api Lambda sends it (for tests that invoke the training Lambda directly). */
export function syncTrainingEvent(tenant: string, episodeId: string, call: { tool: string; arguments: Record<string, unknown> }, requestId: string): TrainingStepEvent {
  return {
    kind: 'ml-trainer.step',
    version: 1,
    mode: 'sync',
    tenant,
    episode_id: episodeId,
    call,
    request_id: requestId,
    call_sha256: callSha256(call),
    requested_at: new Date().toISOString(),
  };
}
