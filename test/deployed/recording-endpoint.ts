import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dynamodbCalls, type HttpRequestSummary, invokedFunction, lambdaCalls, s3Calls, serviceOf, type Service } from './aws-calls';

/**
 * One identity's AWS endpoint: every SDK client of one function (or of the state machine)
 * is pointed at its own loopback port, so the caller of a request is known without trusting
 * anything in it. DynamoDB requests are forwarded to dynalite and S3 requests to s3rver
 * byte for byte (the Host header kept: s3rver checks the SigV4 signature); Lambda Invoke
 * requests (`POST /2015-03-31/functions/{name}/invocations`) are answered here, as the Lambda
 * service would, by the function's process. Each request is recorded with the action(s) and
 * resource(s) IAM would authorize it by.
 */
export interface RecordedCall {
  caller: string;
  service: Service;
  action: string;
  resource: string;
  /** e.g. `PUT /bucket/key` or `DynamoDB_20120810.UpdateItem`, for the report. */
  request: string;
  status?: number;
}

export interface LambdaService {
  /** The ARN of a function by name or ARN (the resource of lambda:InvokeFunction); unknown names included. */
  functionArn(nameOrArn: string): string;
  /** Answers an Invoke request: status, headers and payload as the Lambda Invoke API does. */
  invoke(nameOrArn: string, invocationType: string, payload: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }>;
}

export interface Backends {
  dynamodb: string;
  s3: string;
  lambda: LambdaService;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function forward(target: string, incoming: http.IncomingMessage, body: Buffer, outgoing: http.ServerResponse): Promise<number> {
  const url = new URL(target);
  return new Promise((resolve, reject) => {
    const upstream = http.request(
      { host: url.hostname, port: url.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
        answer.on('end', () => resolve(answer.statusCode ?? 502));
        answer.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

export class RecordingEndpoint {
  private constructor(
    readonly caller: string,
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(caller: string, backends: Backends, record: (call: RecordedCall) => void): Promise<RecordingEndpoint> {
    const server = http.createServer((incoming, outgoing) => {
      void (async () => {
        const body = await readBody(incoming);
        const summary: HttpRequestSummary = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, body };
        const service = serviceOf(summary);
        const calls = service === 'dynamodb' ? dynamodbCalls(summary) : service === 's3' ? s3Calls(summary) : lambdaCalls(summary, (n) => backends.lambda.functionArn(n));
        const label = service === 'dynamodb' ? String(incoming.headers['x-amz-target']) : `${summary.method} ${new URL(summary.url, 'http://local').pathname}`;
        const recorded = calls.map((c) => ({ caller, service, ...c, request: label }));
        for (const r of recorded) record(r);
        let status: number;
        if (service === 'lambda') {
          const { name, invocationType } = invokedFunction(summary);
          const answer = await backends.lambda.invoke(name, invocationType, body);
          outgoing.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          outgoing.end(answer.body);
          status = answer.status;
        } else {
          status = await forward(service === 'dynamodb' ? backends.dynamodb : backends.s3, incoming, body, outgoing);
        }
        for (const r of recorded) (r as RecordedCall).status = status;
      })().catch((error: unknown) => {
        if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
        outgoing.end(JSON.stringify({ message: `recording endpoint of ${caller}: ${String(error)}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new RecordingEndpoint(caller, server, `http://127.0.0.1:${port}`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
