import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  InvokedFunctionError,
  InvokeRefusedError,
  InvokeTimeoutError,
  isInvokeRefusal,
  isThrottled,
  LambdaInvoker,
  type TrainingStepEvent,
} from '../../layers/cloud/src';
import { LoopbackLambda, PAYLOAD_LIMIT, replies } from './loopback-lambda';

const FUNCTION = 'ml-trainer-training';

function stepEvent(padding = 0): TrainingStepEvent {
  return {
    kind: 'ml-trainer.step',
    version: 1,
    mode: 'sync',
    tenant: 'tenant-1',
    episode_id: 'ep-1',
    call: { tool: 'get_status', arguments: padding > 0 ? { padding: 'x'.repeat(padding) } : {} },
    request_id: 'req-1',
    call_sha256: 'a'.repeat(64),
    requested_at: '2026-12-02T10:00:00.000Z',
  };
}

/** The rejection of `promise` (fails the test if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** How the invoker's callers (CloudEpisodeService) classify an error: the branch it takes. */
function classify(error: unknown) {
  return {
    timeout: error instanceof InvokeTimeoutError,
    functionError: error instanceof InvokedFunctionError,
    throttled: isThrottled(error),
    refused: isInvokeRefusal(error),
  };
}

const NONE = { timeout: false, functionError: false, throttled: false, refused: false };

describe('LambdaInvoker against Lambda\'s Invoke API on a loopback endpoint', () => {
  let lambda: LoopbackLambda;
  const clients: LambdaClient[] = [];
  const invoker = (options: { requestTimeoutMs?: number; queueTimeoutMs?: number } = {}) => {
    const client = lambda.client(options);
    clients.push(client);
    return options.queueTimeoutMs === undefined ? new LambdaInvoker(client, FUNCTION) : new LambdaInvoker(client, FUNCTION, { queueTimeoutMs: options.queueTimeoutMs });
  };

  beforeEach(async () => {
    lambda = await LoopbackLambda.start();
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.destroy());
    await lambda.stop();
  });

  describe('invokeSync', () => {
    it('sends the event as a RequestResponse invocation and returns the answer', async () => {
      const answer = { ok: false, skipped: 'not_started' };
      lambda.respond = () => replies.answer(answer);
      await expect(invoker().invokeSync(stepEvent(), { timeoutMs: 30_000 })).resolves.toEqual(answer);
      expect(lambda.requests.map((r) => [r.functionName, r.invocationType, JSON.parse(r.body.toString('utf8'))])).toEqual([[FUNCTION, 'RequestResponse', stepEvent()]]);
    });

    it.each(['Unhandled', 'Handled'] as const)('turns a %s FunctionError into an InvokedFunctionError with its errorType and message', async (kind) => {
      const payload = { errorType: 'DatasetReadError', errorMessage: 'the datasets bucket answered 500', trace: ['at read (index.js:1:1)'] };
      lambda.respond = () => replies.functionError(kind, JSON.stringify(payload));
      const error = await rejectionOf(invoker().invokeSync(stepEvent(), { timeoutMs: 30_000 }));
      expect(classify(error)).toEqual({ ...NONE, functionError: true });
      expect((error as InvokedFunctionError).errorType).toBe('DatasetReadError');
      expect((error as Error).message).toBe(`${FUNCTION} failed (${kind}): DatasetReadError: the datasets bucket answered 500`);
    });

    it("reports the function's own timeout (no errorType) as an InvokedFunctionError of type Unhandled", async () => {
      lambda.respond = () => replies.functionError('Unhandled', JSON.stringify({ errorMessage: '2026-12-02T10:15:00.000Z req-1 Task timed out after 900.00 seconds' }));
      const error = await rejectionOf(invoker().invokeSync(stepEvent(), { timeoutMs: 30_000 }));
      expect(classify(error)).toEqual({ ...NONE, functionError: true });
      expect((error as InvokedFunctionError).errorType).toBe('Unhandled');
      expect((error as Error).message).toContain('Task timed out after 900.00 seconds');
    });

    it('keeps a FunctionError payload that is not JSON as text', async () => {
      lambda.respond = () => replies.functionError('Unhandled', 'Runtime exited with error: signal: killed');
      const error = await rejectionOf(invoker().invokeSync(stepEvent(), { timeoutMs: 30_000 }));
      expect(classify(error)).toEqual({ ...NONE, functionError: true });
      expect((error as Error).message).toBe(`${FUNCTION} failed (Unhandled): Error: Runtime exited with error: signal: killed`);
    });

    it('lets throttling through as a throttled refusal (the caller answers 503 training_busy)', async () => {
      lambda.respond = () => replies.throttled();
      const error = await rejectionOf(invoker().invokeSync(stepEvent(), { timeoutMs: 30_000 }));
      expect(classify(error)).toEqual({ ...NONE, throttled: true, refused: true });
      expect((error as Error).name).toBe('TooManyRequestsException');
    });

    it('lets a payload over the limit through as a refusal that is neither throttling nor a function error', async () => {
      const error = await rejectionOf(invoker().invokeSync(stepEvent(PAYLOAD_LIMIT.RequestResponse), { timeoutMs: 30_000 }));
      expect(classify(error)).toEqual({ ...NONE, refused: true });
      expect((error as Error).name).toBe('RequestTooLargeException');
      expect(lambda.requests.map((r) => r.body.length > PAYLOAD_LIMIT.RequestResponse)).toEqual([true]);
    });

    it('stops waiting after timeoutMs with an InvokeTimeoutError when Lambda never answers', async () => {
      lambda.respond = () => 'never';
      const error = await rejectionOf(invoker().invokeSync(stepEvent(), { timeoutMs: 300 }));
      expect(classify(error)).toEqual({ ...NONE, timeout: true });
      expect((error as Error).message).toBe(`${FUNCTION} did not answer within 300 ms.`);
    });

    it("treats the client's own request timeout as an InvokeTimeoutError too", async () => {
      lambda.respond = () => 'never';
      const error = await rejectionOf(invoker({ requestTimeoutMs: 200 }).invokeSync(stepEvent(), { timeoutMs: 60_000 }));
      expect(classify(error)).toEqual({ ...NONE, timeout: true });
    });
  });

  describe('invokeAsync', () => {
    it('queues the event as an Event invocation (202)', async () => {
      lambda.respond = () => replies.queued();
      await invoker().invokeAsync(stepEvent());
      expect(lambda.requests.map((r) => [r.functionName, r.invocationType, JSON.parse(r.body.toString('utf8'))])).toEqual([[FUNCTION, 'Event', stepEvent()]]);
    });

    it('refuses an answer other than 202: nothing was queued', async () => {
      lambda.respond = () => replies.answer(null);
      const error = await rejectionOf(invoker().invokeAsync(stepEvent()));
      expect(error).toBeInstanceOf(InvokeRefusedError);
      expect(classify(error)).toEqual({ ...NONE, refused: true });
      expect((error as InvokeRefusedError).statusCode).toBe(200);
    });

    it('lets throttling through as a throttled refusal', async () => {
      lambda.respond = () => replies.throttled();
      expect(classify(await rejectionOf(invoker().invokeAsync(stepEvent())))).toEqual({ ...NONE, throttled: true, refused: true });
    });

    it('lets a payload over the asynchronous limit through as a refusal', async () => {
      const error = await rejectionOf(invoker().invokeAsync(stepEvent(PAYLOAD_LIMIT.Event)));
      expect(classify(error)).toEqual({ ...NONE, refused: true });
      expect((error as Error).name).toBe('RequestTooLargeException');
    });

    it("does not call a timeout a refusal: the invocation may have been queued", async () => {
      lambda.respond = () => 'never';
      const error = await rejectionOf(invoker({ requestTimeoutMs: 200 }).invokeAsync(stepEvent()));
      expect(classify(error)).toEqual({ ...NONE, timeout: true });
    });

    it('stops waiting for Lambda to confirm the queueing after its own timeout, whatever the client allows', async () => {
      lambda.respond = () => 'never';
      const error = await rejectionOf(invoker({ queueTimeoutMs: 150 }).invokeAsync(stepEvent()));
      expect(classify(error)).toEqual({ ...NONE, timeout: true });
      expect((error as Error).message).toBe(`Lambda did not confirm queueing ${FUNCTION} within 150 ms.`);
    });
  });
});
