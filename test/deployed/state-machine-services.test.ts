import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { RecordingEndpoint, type RecordedCall } from './recording-endpoint';
import { runExecution } from './state-machine';
import { StateMachineServices } from './state-machine-services';

/**
 * The state machine's services as fireSchedule gives them: a Distributed Map reading its
 * manifest from and writing its results to s3rver through the state machine's recording
 * endpoint (real SDK, loopback), each call recorded with the state machine's identity.
 */
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:batch';
const BUCKET = 'ml-trainer-reports';

describe("the state machine's services", () => {
  let runtime: LocalRuntime;
  let endpoint: RecordingEndpoint;
  const calls: RecordedCall[] = [];

  beforeAll(async () => {
    runtime = await startLocalRuntime({ reportsBucket: BUCKET });
    const lambda = { functionArn: (n: string) => n, invoke: async () => ({ status: 404, headers: {}, body: Buffer.alloc(0) }) };
    endpoint = await RecordingEndpoint.start('batch', { dynamodb: runtime.endpoints.dynamodb, s3: runtime.endpoints.s3, lambda }, (c) => calls.push(c));
  });

  afterAll(async () => {
    await endpoint?.close();
    await runtime?.close();
  });

  it('reads the manifest and writes the results and the manifest of the Map Run to S3 as the state machine, and queues the continuation it starts', async () => {
    const lines = ['{"n":1}', '{"n":2}', '{"n":3}'].join('\n');
    await runtime.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'manifests/run 1.jsonl', Body: lines }));
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSONL' }, Parameters: { Bucket: BUCKET, 'Key.$': '$.key' } },
          ItemBatcher: { MaxItemsPerBatch: 2 },
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' }, StartAt: 'Echo', States: { Echo: { Type: 'Pass', OutputPath: '$.Items', End: true } } },
          ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: BUCKET, Prefix: 'results' }, WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSONL' } },
          ResultPath: '$.graded',
          Next: 'Continue',
        },
        Continue: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution', Parameters: { 'StateMachineArn.$': '$$.StateMachine.Id', Input: { 'after.$': '$$.Execution.Name' } }, ResultPath: '$.continued', End: true },
      },
    };
    const services = new StateMachineServices('batch', endpoint.url, (c) => calls.push(c));
    const startTime = new Date('2026-01-01T00:00:00Z');
    try {
      const { output } = await runExecution(definition, { key: 'manifests/run 1.jsonl' }, { ...services.options(), name: 'run-1', startTime, stateMachineArn: MACHINE });
      const read = async (key: string) => (await (await runtime.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString());
      const manifest = JSON.parse(await read(output.graded.ResultWriterDetails.Key));
      const [succeeded] = manifest.ResultFiles.SUCCEEDED;
      expect((await read(succeeded.Key)).split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);

      const own = calls.filter((c) => c.caller === 'batch').map((c) => `${c.action} ${c.resource} ${c.status ?? ''}`.trim());
      expect(own).toEqual([
        `s3:GetObject arn:aws:s3:::${BUCKET}/manifests/run 1.jsonl 200`,
        `states:StartExecution ${MACHINE}`,
        `states:StartExecution ${MACHINE}`,
        `s3:PutObject arn:aws:s3:::${BUCKET}/${succeeded.Key} 200`,
        `s3:PutObject arn:aws:s3:::${BUCKET}/${output.graded.ResultWriterDetails.Key} 200`,
        `states:StartExecution ${MACHINE}`,
      ]);
      expect(services.queued).toEqual([{ stateMachineArn: MACHINE, name: expect.any(String), input: { after: 'run-1' }, startTime: expect.any(Date) }]);
      expect(services.queued[0]!.startTime.getTime()).toBeGreaterThanOrEqual(startTime.getTime());
    } finally {
      services.destroy();
    }
  });
});
