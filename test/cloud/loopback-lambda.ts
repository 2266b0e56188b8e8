import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';

/** One Invoke request as Lambda's REST API receives it. */
export interface InvokeRequest {
  functionName: string;
  invocationType: string;
  body: Buffer;
}

export interface InvokeReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What the endpoint does with a request: answer it, or never answer (the caller's timeout must end the wait). */
export type Responder = (request: InvokeRequest) => InvokeReply | 'never';

/** Lambda's payload limits on Invoke: 6 MB synchronous, 1 MB asynchronous (InvocationType Event). */
export const PAYLOAD_LIMIT = { RequestResponse: 6 * 1024 * 1024, Event: 1024 * 1024 } as const;

/** Lambda's answers, as its REST API writes them (status, x-amzn-ErrorType, x-amz-function-error). */
export const replies = {
  answer: (payload: unknown): InvokeReply => ({ status: 200, headers: { 'x-amz-executed-version': '$LATEST' }, body: JSON.stringify(payload) }),
  queued: (): InvokeReply => ({ status: 202 }),
  functionError: (kind: 'Handled' | 'Unhandled', body: string): InvokeReply => ({ status: 200, headers: { 'x-amz-function-error': kind }, body }),
  throttled: (): InvokeReply => serviceError(429, 'TooManyRequestsException', { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' }),
  tooLarge: (limit: number): InvokeReply => serviceError(413, 'RequestTooLargeException', { Type: 'User', message: `Request must be smaller than ${limit} bytes for the InvokeFunction operation` }),
};

function serviceError(status: number, errorType: string, body: Record<string, unknown>): InvokeReply {
  return { status, headers: { 'x-amzn-errortype': errorType, 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/**
 * Lambda's Invoke API on 127.0.0.1, answering as `respond` says, and an SDK client pointed at it
 * (dummy credentials; otherwise configured as the api Lambda's client, retries included).
 */
export class LoopbackLambda {
  readonly requests: InvokeRequest[] = [];
  respond: Responder = () => replies.answer(null);

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(): Promise<LoopbackLambda> {
    let self: LoopbackLambda | undefined;
    const server = http.createServer((req, res) => self!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new LoopbackLambda(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** `requestTimeoutMs`: the handler's request timeout, made an error (by default it only logs a warning). */
  client(options: { requestTimeoutMs?: number } = {}): LambdaClient {
    return new LambdaClient({
      region: 'us-east-1',
      endpoint: this.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...(options.requestTimeoutMs === undefined ? {} : { requestHandler: { requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true } }),
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      const request = { functionName: decodeURIComponent(match?.[1] ?? ''), invocationType, body: Buffer.concat(chunks) };
      this.requests.push(request);
      const limit = PAYLOAD_LIMIT[invocationType as keyof typeof PAYLOAD_LIMIT];
      const reply = limit !== undefined && request.body.length > limit ? replies.tooLarge(limit) : this.respond(request);
      if (reply === 'never') return;
      res.writeHead(reply.status, { 'x-amzn-requestid': `req-${this.requests.length}`, ...reply.headers });
      res.end(reply.body ?? '');
    });
  }
}
