import { randomUUID } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import type { TrainingStepEvent, TrainingStepResponse } from './training-protocol';

/**
 * The ports through which the api Lambda reaches the training and grade Lambdas. In AWS
 * they are Lambda invocations (below); tests and local runs call the handlers in-process
 * with the same event shapes (JSON round-tripped, as Lambda would deliver them).
 */
export interface TrainingInvoker {
  /**
   * Runs the step and waits for its answer (InvocationType RequestResponse). Stops waiting
   * after timeoutMs with an InvokeTimeoutError; the step itself goes on.
   */
  invokeSync(event: TrainingStepEvent, options: { timeoutMs: number }): Promise<TrainingStepResponse>;
  /**
   * Queues the step (InvocationType Event) and returns at once. Lambda answering neither yes
   * nor no in time is an InvokeTimeoutError: the step may or may not have been queued.
   */
  invokeAsync(event: TrainingStepEvent): Promise<void>;
}

/** What the grade Lambda is invoked with (functions/README.md, "grade"). */
export interface GradeEvent {
  source: 'api' | 'batch';
  run_id?: string;
  tenant: string;
  episode_id: string;
}

export interface GradeInvoker {
  /** Queues a grading (InvocationType Event). */
  invokeAsync(event: GradeEvent): Promise<void>;
}

/** The api stopped waiting for a synchronous step; the step may still commit. */
export class InvokeTimeoutError extends Error {
  override readonly name = 'InvokeTimeoutError';
}

/** The invoked function failed (Lambda's FunctionError: an exception, a timeout, out of memory). */
export class InvokedFunctionError extends Error {
  override readonly name = 'InvokedFunctionError';
  constructor(
    message: string,
    readonly errorType: string,
  ) {
    super(message);
  }
}

/** Lambda did not accept an asynchronous invocation (it answered, but not 202): nothing was queued. */
export class InvokeRefusedError extends Error {
  override readonly name = 'InvokeRefusedError';
  constructor(
    message: string,
    readonly statusCode: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Whether an invocation certainly did not start: Lambda answered with an error (throttling,
 * a quota, a missing permission or function) or a status other than 202. A network failure
 * or a timeout is not a refusal: the invocation may have been accepted.
 */
export function isInvokeRefusal(error: unknown): boolean {
  if (error instanceof InvokeRefusedError) return true;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 400;
}

/** Lambda refused the invocation for lack of concurrency (or its own rate limits). */
export function isThrottled(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown }; statusCode?: unknown } | null;
  return e?.name === 'TooManyRequestsException' || e?.name === 'EC2ThrottledException' || e?.$metadata?.httpStatusCode === 429 || e?.statusCode === 429;
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/**
 * How long queueing an asynchronous invocation may take: Lambda answers 202 in tens of
 * milliseconds; a hung connection must not hold the api's request until API Gateway's 29 s.
 */
export const QUEUE_INVOKE_TIMEOUT_MS = 10_000;

/** Lambda invocations through the AWS SDK. */
export class LambdaInvoker implements TrainingInvoker, GradeInvoker {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
    private readonly options: { queueTimeoutMs: number } = { queueTimeoutMs: QUEUE_INVOKE_TIMEOUT_MS },
  ) {}

  async invokeSync(event: TrainingStepEvent, options: { timeoutMs: number }): Promise<TrainingStepResponse> {
    let output;
    try {
      output = await this.client.send(
        new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }),
        { abortSignal: AbortSignal.timeout(Math.max(1, options.timeoutMs)) },
      );
    } catch (error) {
      if (isAbort(error)) throw new InvokeTimeoutError(`${this.functionName} did not answer within ${options.timeoutMs} ms.`);
      throw error;
    }
    const text = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    if (output.FunctionError) {
      let detail: { errorType?: string; errorMessage?: string } = {};
      try {
        detail = JSON.parse(text) as typeof detail;
      } catch {
        // Not JSON: keep the raw text below.
      }
      throw new InvokedFunctionError(
        `${this.functionName} failed (${output.FunctionError}): ${detail.errorType ?? 'Error'}: ${detail.errorMessage ?? text.slice(0, 500)}`,
        detail.errorType ?? output.FunctionError,
      );
    }
    return JSON.parse(text) as TrainingStepResponse;
  }

  async invokeAsync(event: TrainingStepEvent | GradeEvent): Promise<void> {
    let output;
    try {
      output = await this.client.send(
        new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
        { abortSignal: AbortSignal.timeout(this.options.queueTimeoutMs) },
      );
    } catch (error) {
      if (isAbort(error)) throw new InvokeTimeoutError(`Lambda did not confirm queueing ${this.functionName} within ${this.options.queueTimeoutMs} ms.`);
      throw error;
    }
    if (output.StatusCode !== 202) throw new InvokeRefusedError(`Queueing an invocation of ${this.functionName} answered HTTP ${output.StatusCode}.`, output.StatusCode);
  }
}

/** A Lambda context for in-process invocations (tests, local runs). */
export function lambdaContext(options: { functionName?: string; memoryMb?: number; timeoutMs?: number } = {}): Context {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  const functionName = options.functionName ?? 'local-function';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type InProcessHandler = (event: any, context: Context) => Promise<unknown>;

/**
 * Calls a handler in this process with the event as Lambda would deliver it (JSON round
 * trip) and a fresh context. Asynchronous invocations run in the background; `drain()`
 * waits for them, and their failures are kept in `asyncFailures` (Lambda would send them
 * to the dead-letter queue).
 */
export class InProcessInvoker implements TrainingInvoker, GradeInvoker {
  readonly asyncFailures: unknown[] = [];
  readonly invocations: { mode: 'sync' | 'async'; event: unknown }[] = [];
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly handler: InProcessHandler,
    private readonly context: () => Context = () => lambdaContext(),
  ) {}

  async invokeSync(event: TrainingStepEvent, options: { timeoutMs: number }): Promise<TrainingStepResponse> {
    this.invocations.push({ mode: 'sync', event });
    const run = this.track(this.handler(JSON.parse(JSON.stringify(event)), this.context()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InvokeTimeoutError(`no answer within ${options.timeoutMs} ms`)), Math.max(1, options.timeoutMs));
    });
    try {
      const answer = await Promise.race([run, timeout]);
      return JSON.parse(JSON.stringify(answer)) as TrainingStepResponse;
    } catch (error) {
      if (error instanceof InvokeTimeoutError) throw error;
      throw new InvokedFunctionError(`in-process handler failed: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.name ?? 'Error');
    } finally {
      clearTimeout(timer);
    }
  }

  async invokeAsync(event: TrainingStepEvent | GradeEvent): Promise<void> {
    this.invocations.push({ mode: 'async', event });
    const copy = JSON.parse(JSON.stringify(event)) as unknown;
    // Lambda queues the event: the handler starts after this call has returned.
    this.track(
      Promise.resolve()
        .then(() => this.handler(copy, this.context()))
        .catch((error: unknown) => {
          this.asyncFailures.push(error);
        }),
    );
  }

  /** Waits until every invocation started so far (and any they started) has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.running.add(promise);
    const remove = () => this.running.delete(promise);
    promise.then(remove, remove);
    return promise;
  }
}
