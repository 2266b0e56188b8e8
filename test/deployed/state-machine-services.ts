import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createStorageClients, type StorageClients } from '../../layers/storage/src';
import type { RecordedCall } from './recording-endpoint';
import { executionArn, type ExecutionOptions, StatesError } from './state-machine';
import { LOCAL_REGION } from './template-model';

/**
 * What the interpreter calls AWS with, as one state machine's role: Lambda Invoke and S3
 * (a Distributed Map's ItemReader and ResultWriter) through the real SDK against the state
 * machine's own recording endpoint, so each call is recorded with its identity and checked
 * against its role; StartExecution (the Task, and a Map Run's children) recorded here, the
 * Task's execution queued for the caller to run.
 */
export interface QueuedExecution {
  stateMachineArn: string;
  name: string;
  input: unknown;
  startTime: Date;
}

export class StateMachineServices {
  /** Executions started by StartExecution Tasks, oldest first, not yet run. */
  readonly queued: QueuedExecution[] = [];
  private readonly lambda: LambdaClient;
  private readonly storage: StorageClients;

  constructor(
    private readonly caller: string,
    endpointUrl: string,
    private readonly record: (call: RecordedCall) => void,
  ) {
    this.lambda = new LambdaClient({ region: LOCAL_REGION, endpoint: endpointUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    // The storage layer's client settings for s3rver (path style, its credentials); only the S3 client is used.
    this.storage = createStorageClients({
      region: LOCAL_REGION,
      tableName: 'unused',
      checkpointBucket: 'unused',
      dataBucket: 'unused',
      retentionSeconds: 0,
      localEndpoint: true,
      s3Endpoint: endpointUrl,
      dynamodbEndpoint: endpointUrl,
    });
  }

  /** The services part of runExecution's options. */
  options(): Pick<ExecutionOptions, 'invoke' | 's3' | 'startExecution' | 'record'> {
    return {
      invoke: (functionArn, payload) => this.invoke(functionArn, payload),
      s3: {
        getObject: async (bucket, key) => {
          const out = await this.storage.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          return out.Body ? out.Body.transformToString('utf8') : '';
        },
        putObject: async (bucket, key, body) => {
          await this.storage.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
        },
      },
      startExecution: async (stateMachineArn, input, { name = randomUUID(), now }) => {
        this.recordCall('states:StartExecution', stateMachineArn, 'StartExecution task');
        this.queued.push({ stateMachineArn, name, input: typeof input === 'string' ? JSON.parse(input) : (input ?? {}), startTime: now });
        return { executionArn: executionArn(stateMachineArn, name), startDate: now };
      },
      record: (action, resource) => this.recordCall(action, resource, 'Map Run child execution'),
    };
  }

  private recordCall(action: string, resource: string, request: string): void {
    this.record({ caller: this.caller, service: 'states', action, resource, request });
  }

  private async invoke(functionArn: string, payload: unknown): Promise<unknown> {
    const out = await this.lambda.send(new InvokeCommand({ FunctionName: functionArn, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(payload)) }));
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : 'null';
    if (out.FunctionError) {
      const detail = JSON.parse(text) as { errorType?: string };
      throw new StatesError(detail.errorType ?? 'Lambda.Unknown', text);
    }
    return JSON.parse(text);
  }

  destroy(): void {
    this.lambda.destroy();
    this.storage.destroy();
  }
}
